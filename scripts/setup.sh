#!/usr/bin/env bash
# Installs everything the build and the tests need, idempotently: Debian packages, npm packages, and the
# third-party sources that Debian ships only as source packages (Dear ImGui, libsodium for the wasm build).
# Nothing third-party is committed; sources land in .deps/, which git ignores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates xz-utils dpkg-dev
  emscripten binaryen wabt
  libxnnpack-dev libpthreadpool-dev libhwy-dev
  libstb-dev libsodium-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev zlib1g-dev
  googletest libgtest-dev
  libglfw3-dev libgl-dev libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri xvfb xdotool imagemagick fonts-dejavu-core
  python3-fonttools
  chromium dataset-fashion-mnist
  python3 python3-numpy python3-torch python3-onnx python3-sklearn
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian source packages, fetched with a private apt configuration so the machine's own stays untouched.
DEPS=$ROOT/.deps
fetch_source() {  # fetch_source PACKAGE DIRNAME
  local pkg=$1 dir=$2
  [ -f "$DEPS/$dir/.complete" ] && return 0
  local apt=$DEPS/apt
  mkdir -p "$apt/lists/partial" "$DEPS/dl"
  if [ ! -f "$apt/sources.list" ]; then
    local suite
    suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
    {
      echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
      echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite-updates main"
      echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security $suite-security main"
    } >"$apt/sources.list"
  fi
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
  [ -f "$apt/.updated" ] || { apt-get "${opts[@]}" update -qq && touch "$apt/.updated"; }
  (cd "$DEPS/dl" && apt-get "${opts[@]}" source --download-only -qq "$pkg")
  local orig
  orig=$(ls "$DEPS"/dl/"${pkg}"_*.orig.tar.* | head -n1)
  rm -rf "$DEPS/$dir" && mkdir -p "$DEPS/$dir"
  tar -xf "$orig" -C "$DEPS/$dir" --strip-components=1
  touch "$DEPS/$dir/.complete"
}
fetch_source imgui imgui
fetch_source libsodium libsodium

# npm packages for the browser tests and the peers in the benchmarks.
if [ ! -f "$ROOT/tests/node_modules/.complete" ] || [ "$ROOT/tests/package.json" -nt "$ROOT/tests/node_modules/.complete" ]; then
  (cd "$ROOT/tests" && npm install --no-audit --no-fund --loglevel=error && touch node_modules/.complete)
fi
echo "setup: ok"
