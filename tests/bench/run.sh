#!/usr/bin/env bash
# One command for the workload benchmarks: makes sure the peers are present (apt / npm only), builds the benchmark
# programs natively and in wasm, then runs Cairn and every peer interleaved over >= 3 rounds (tests/bench/runner.mjs),
# printing one table and writing build/native/tests/bench/workloads.json.
#   CAIRN_BENCH_QUICK=1      smoke run (small counts, one round)
#   CAIRN_BENCH_ROUNDS=N     rounds (default 5)
#   CAIRN_BENCH_ONLY=REGEX   only configurations whose id (peer/engine/threads) matches, e.g. 'chromium|torch'
#   CAIRN_BENCH_NO_BUILD=1   use what is built
#   CAIRN_BENCH_PAGE_THREAD=1  Chromium peers run on the page's thread (default: each in a dedicated worker)
set -euo pipefail
cd "$(dirname "$0")/../.."
export NODE_PATH=/usr/share/nodejs
need_apt=()
/usr/bin/python3 -c 'import torch, onnx, numpy' 2>/dev/null || need_apt+=(python3-torch python3-onnx python3-numpy)
command -v chromium >/dev/null || need_apt+=(chromium)
[ -f /usr/include/xnnpack.h ] || need_apt+=(libxnnpack-dev libpthreadpool-dev)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need_apt+=(dataset-fashion-mnist)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
for pkg in @tensorflow/tfjs @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-backend-cpu onnxruntime-web playwright-core; do
  if [ ! -f "tests/node_modules/$pkg/package.json" ]; then (cd tests && npm install --no-audit --no-fund); break; fi
done

nb=build/native/tests/bench
mkdir -p "$nb"
# PyTorch's BLAS: Debian's torch uses whatever libblas.so.3 the system selects (the reference BLAS by default). We
# unpack Debian's OpenBLAS (OpenMP build, matching torch's threading) into the build tree and give it to the torch
# peer only, so the machine's configuration is untouched.
ob="$PWD/build/deps/openblas"
if [ ! -f "$ob/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3" ]; then
  mkdir -p "$ob" && (cd "$ob" && apt-get download libopenblas0-openmp >/dev/null 2>&1 && dpkg -x libopenblas0-openmp_*.deb .) \
    || echo "run.sh: could not fetch libopenblas0-openmp; PyTorch runs on the system BLAS" >&2
fi
[ -d "$ob/usr/lib/x86_64-linux-gnu/openblas-openmp" ] && export CAIRN_OPENBLAS="$ob/usr/lib/x86_64-linux-gnu/openblas-openmp"

if [ "${CAIRN_BENCH_NO_BUILD:-0}" != 1 ]; then
  [ -f build/native/build.ninja ] || cmake --preset native >/dev/null
  [ -f build/wasm/build.ninja ] || cmake --preset wasm >/dev/null
  targets_native=(peer_xnnpack bench_workloads)
  cmake --build --preset native -j2 --target "${targets_native[@]}"
  if [ -f core/train.h ] && [ -f core/data.h ]; then
    # cairn_bench_web_mt (-pthread) provides the 2-thread wasm rows.
    cmake --build --preset wasm -j2 --target cairn_bench_web cairn_bench_web_mt
  fi
  # The page's download and start-up are measured on the web build (build/wasm/web): its targets, where they exist.
  web=(); for t in cairn_web cairn_dashboard cairn_web_static; do grep -q "^build $t:" build/wasm/build.ninja && web+=("$t"); done
  [ ${#web[@]} -gt 0 ] && cmake --build --preset wasm -j2 --target "${web[@]}"
fi
/usr/bin/python3 tests/bench/make_onnx.py "$nb/mlp.onnx"
exec node tests/bench/runner.mjs
