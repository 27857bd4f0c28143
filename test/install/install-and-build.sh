#!/usr/bin/env bash
# install-and-build.sh BUILD_DIR EXAMPLE_DIR WORK_DIR ARTIFACT CXX
#
# Installs the llamac runtime from BUILD_DIR into WORK_DIR/prefix, checks
# what was installed (no MLIR or LLVM in the library's dependencies; each
# public header compiles on its own), then configures, builds and runs the
# example in EXAMPLE_DIR against that prefix, with find_package(MLIR) and
# find_package(LLVM) disabled. Any failure fails the test. A sanitized build
# (LLAMAC_SANITIZE) installs a sanitized library, so the example links the
# sanitizer runtimes too: EXAMPLE_LDFLAGS.
set -euo pipefail
build=$1 example=$2 work=$3 artifact=$4 cxx=$5

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

echo "== install"
cmake --install "$build" --component llamac-runtime --prefix "$prefix"
library=$(find "$prefix" -name 'libllamac_runtime.so*' -type f | head -n 1)
test -n "$library" || { echo "no libllamac_runtime.so installed"; exit 1; }
test -f "$prefix"/lib*/cmake/llamac/llamacConfig.cmake

echo "== the library needs no MLIR or LLVM"
needed=$(objdump -p "$library" | awk '$1 == "NEEDED" { print $2 }')
echo "$needed"
if grep -Ei 'mlir|llvm' <<<"$needed"; then
  echo "libllamac_runtime.so depends on MLIR or LLVM"
  exit 1
fi

echo "== each installed header compiles on its own, through the package"
# One source file per header, in a project that only finds the package.
includes=$prefix/include/llamac
mkdir -p "$work/headers"
sources=()
while IFS= read -r header; do
  relative=${header#"$includes"/}
  source=${relative//\//_}.cpp
  echo "#include \"$relative\"" > "$work/headers/$source"
  sources+=("$source")
done < <(find "$includes" -name '*.h' | sort)
test ${#sources[@]} -gt 0
cat > "$work/headers/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(llamac_headers LANGUAGES CXX)
find_package(llamac REQUIRED CONFIG)
add_library(headers OBJECT ${sources[*]})
target_link_libraries(headers PRIVATE llamac::runtime)
CMAKE
cmake -S "$work/headers" -B "$work/headers/build" -G Ninja \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/headers/build"

echo "== build the example against the prefix"
cmake -S "$example" -B "$work/example" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_DISABLE_FIND_PACKAGE_MLIR=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_LLVM=ON --no-warn-unused-cli \
  -DCMAKE_EXE_LINKER_FLAGS="${EXAMPLE_LDFLAGS:-}"
cmake --build "$work/example"

echo "== run it"
"$work/example/session-example" "$artifact"
