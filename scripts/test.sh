#!/usr/bin/env bash
# Every test: set up, build both targets, run the native and wasm GoogleTest suites (ctest), the JS API and
# benchmark-helper tests under Node, and the browser tests in headless Chromium. Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }
export NODE_PATH=/usr/share/nodejs

passed=0; failed=0; failures=()
run() {  # run NAME COMMAND...
  local name=$1; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

run "ctest native" ctest --preset native -j 2
run "ctest wasm" ctest --preset wasm -j 2
shopt -s nullglob
node_tests=(tests/web/*.test.mjs tests/bench/*.test.mjs)
((${#node_tests[@]})) && run "node: JS API, bench helpers" node --test --test-reporter=spec "${node_tests[@]}"
browser_tests=(tests/browser/*.test.mjs)
((${#browser_tests[@]})) && run "chromium: page" node --test --test-concurrency=1 --test-reporter=spec "${browser_tests[@]}"

((failed)) && echo "failed suites: ${failures[*]}"
echo "tests: $passed passed, $failed failed"
((failed == 0))
