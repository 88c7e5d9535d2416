#!/usr/bin/env bash
# Fails unless the simd backend's own GEMM microkernels in the given .wasm are SIMD128 code.
#
# Counting f32x4 ops in the whole binary is not enough: clang auto-vectorizes plain loops (the reference
# backend's included), so a simd table that silently forwarded to scalar code would still pass. Instead this
# looks inside the named microkernels (f32_gemm_<MR>x<NR>__wasmsimd, f32_ppmm_..., f32_gemv_1x<NR>__wasmsimd, see
# core/kernels/simd/f32_gemm.cpp), which needs the binary linked with --profiling-funcs so function names
# survive, and requires each to multiply and add whole f32x4 vectors.
set -euo pipefail
wasm=$1
dis=$(wasm-objdump -d "$wasm")
# Split the disassembly into functions; print "<name> <f32x4.mul count> <f32x4.add count>" for microkernels.
report=$(awk '
    / func\[[0-9]+\] </ {
        if (name != "") print name, muls, adds
        name = ""; muls = 0; adds = 0
        if (match($0, /<f32_(gemm|ppmm|gemv)_[0-9]+x[0-9]+__[a-z0-9]+>/)) name = substr($0, RSTART + 1, RLENGTH - 2)
        next
    }
    name != "" && /f32x4\.mul/ { muls++ }
    name != "" && /f32x4\.add/ { adds++ }
    END { if (name != "") print name, muls, adds }
' <<<"$dis")
if [ -z "$report" ]; then
    echo "$wasm: no f32_gemm_*/f32_ppmm_* microkernel found (is it linked with --profiling-funcs?)" >&2
    exit 1
fi
status=0
for op in gemm ppmm gemv; do  # each kind the simd backend dispatches to must be there
    grep -q "^f32_${op}_" <<<"$report" || { echo "$wasm: no f32_${op}_* microkernel found" >&2; status=1; }
done
while read -r name muls adds; do
    echo "$name: f32x4.mul=$muls f32x4.add=$adds"
    case $name in *__wasmsimd) ;; *) echo "  not the wasmsimd variant" >&2; status=1 ;; esac
    if [ "$muls" -eq 0 ] || [ "$adds" -eq 0 ]; then echo "  no f32x4 arithmetic" >&2; status=1; fi
done <<<"$report"
exit $status
