#!/usr/bin/env bash
# Configures (once) and builds llamac into build/. Extra arguments go to ninja.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${LLAMAC_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
ninja -C "$BUILD_DIR" "$@"
