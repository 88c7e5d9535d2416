#!/usr/bin/env bash
# The main job: set up, build native + wasm, and serve the dashboard on http://127.0.0.1:8080
# (COOP/COEP set so the threaded build can run). PORT=... overrides the port.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec build/native/native/cairn serve --root build/wasm/web --host 127.0.0.1 --port "${PORT:-8080}"
