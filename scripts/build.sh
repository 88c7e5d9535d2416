#!/usr/bin/env bash
# Configures and builds both targets (native and wasm) after making sure everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NODE_PATH=/usr/share/nodejs   # emcc's JS optimizer needs Debian's node-acorn
jobs=$(nproc)
for preset in native wasm; do
  [ -f "build/$preset/build.ninja" ] || cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
done
