#!/usr/bin/env bash
# Configures (once) and builds llamac into build/. Extra arguments go to ninja.
# LLAMAC_BUILD_DIR names another build directory; LLAMAC_CMAKE_FLAGS adds
# CMake options, re-applied to an existing one (scripts/test.sh --sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${LLAMAC_BUILD_DIR:-build}
# ccache, when installed, makes rebuilds in other clones and worktrees of the
# same sources cheap (paths are hashed relative to the checkout's parent).
LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(cd .. && pwd)}
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" "${LAUNCHER[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit ${LLAMAC_CMAKE_FLAGS:-}
elif [ -n "${LLAMAC_CMAKE_FLAGS:-}" ]; then
  # An existing directory takes the flags too (they may have changed).
  cmake -S . -B "$BUILD_DIR" ${LLAMAC_CMAKE_FLAGS} >/dev/null
fi
ninja -C "$BUILD_DIR" "$@"
