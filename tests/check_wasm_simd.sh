#!/usr/bin/env bash
# Fails unless the given .wasm contains f32x4 arithmetic (mul and add), i.e. the simd kernels really are SIMD128.
set -euo pipefail
wasm=$1
dis=$(wasm-objdump -d "$wasm")
muls=$(grep -c 'f32x4.mul' <<<"$dis" || true)
adds=$(grep -c 'f32x4.add' <<<"$dis" || true)
echo "$wasm: f32x4.mul=$muls f32x4.add=$adds"
[ "$muls" -gt 0 ] && [ "$adds" -gt 0 ]
