#!/usr/bin/env bash
# GEMM benchmark, one command: builds bench_gemm natively and in wasm, runs both, prints one table of GFLOP/s
# with each figure's ratio to native XNNPACK (pre-packed fully connected operator, single thread) of the same run.
#
#   tests/bench/gemm.sh [--rounds N] [--reps N] [--no-liftoff] [--cpu-time]
#
# Native and wasm runs alternate for --rounds rounds (default 3) and every figure is the median over the rounds
# of per-round medians (bench_gemm times its backends round-robin), so a machine shared with other work loads
# all columns alike. The wasm build runs under Node with its default tiering: bench_gemm warms up with many
# short calls, so V8 has replaced the Liftoff code of the hot functions with TurboFan code before timing.
# --no-liftoff compiles everything with TurboFan up front instead (the figures should agree).
# --cpu-time times with CPU time (the thread's natively, Node's process CPU time in wasm) instead of wall time:
# steadier figures when other work shares the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3 reps=7 node_flags=(--no-experimental-fetch) tiering="default tiering (Liftoff, then TurboFan after warm-up)"
bench_flags=() clock="wall time"
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --no-liftoff) node_flags+=(--no-liftoff); tiering="--no-liftoff (TurboFan only)"; shift ;;
        --cpu-time) bench_flags+=(--cpu-time); clock="CPU time"; shift ;;
        *) echo "usage: $0 [--rounds N] [--reps N] [--no-liftoff] [--cpu-time]" >&2; exit 2 ;;
    esac
done
export NODE_PATH=/usr/share/nodejs
{
    cmake --preset native && cmake --build --preset native -j2 --target bench_gemm
    cmake --preset wasm && cmake --build --preset wasm -j2 --target bench_gemm
} >/tmp/cairn_gemm_build.$$.log 2>&1 || { cat /tmp/cairn_gemm_build.$$.log >&2; exit 1; }
rm -f /tmp/cairn_gemm_build.$$.log

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= rounds; r++)); do
    echo "round $r/$rounds ..." >&2
    build/native/tests/bench/bench_gemm --reps "$reps" "${bench_flags[@]}" >>"$out"
    node "${node_flags[@]}" build/wasm/tests/bench/bench_gemm.js --reps "$reps" --backends simd,reference \
        "${bench_flags[@]}" >>"$out"
done

/usr/bin/python3 - "$out" "$rounds" "$reps" "$tiering" "$clock" <<'EOF'
import collections, statistics, sys
path, rounds, reps, tiering, clock = sys.argv[1:6]
runs = collections.defaultdict(list)
kernels = {}
peaks = []
for line in open(path):
    f = line.split()
    if line.startswith("# bench_gemm"):
        kernels[f[2].rstrip(",")] = f[5].rstrip(",")
    if f and f[0] == "RESULT":
        runs[(f[2], f[1], f[3])].append(float(f[4]))
    if f and f[0] == "PEAK":
        peaks.append(float(f[3]))
med = {key: statistics.median(v) for key, v in runs.items()}
shapes = list(dict.fromkeys(k[0] for k in runs))
cols = [("native", "reference"), ("native", "simd"), ("native", "xnnpack"), ("native", "xnnpack-prepacked"),
        ("wasm", "reference"), ("wasm", "simd")]
cols = [c for c in cols if any((s,) + c in med for s in shapes)]
print(f"GEMM C = A*B, single thread, GFLOP/s by {clock} (x = ratio to native xnnpack-prepacked); "
      f"median of {rounds} rounds x {reps} reps")
print(f"microkernels: native {kernels.get('native', '?')}, wasm {kernels.get('wasm', '?')}; wasm under Node {tiering}")
head = ["MxKxN"] + [f"{t} {b}" for t, b in cols]
rows = []
for s in shapes:
    peer = med.get((s, "native", "xnnpack-prepacked"))
    row = [s]
    for t, b in cols:
        v = med.get((s, t, b))
        row.append("-" if v is None else f"{v:7.2f}" + (f" ({v / peer:4.2f}x)" if peer else ""))
    rows.append(row)
w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
print(" | ".join(h.ljust(w[i]) for i, h in enumerate(head)))
print("-+-".join("-" * x for x in w))
for r in rows:
    print(" | ".join(c.ljust(w[i]) for i, c in enumerate(r)))
big = med.get(("256x784x256", "native", "xnnpack-prepacked"))
if peaks and big:
    p = statistics.median(peaks)
    print(f"wasm SIMD128 mul+add peak, measured in the same runs: {p:.2f} GFLOP/s = {p / big:.2f}x native xnnpack on "
          f"256x784x256, the highest ratio any wasm GEMM could reach on this machine")
EOF
