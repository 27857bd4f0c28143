#!/usr/bin/env bash
# The README's second command: build and run every test (lit, GoogleTest,
# end to end) through ctest, which ends with the passed/failed counts, then
# run each fuzz target briefly (scripts/fuzz.sh; LLAMAC_FUZZ_SECONDS per
# target, default 20, 0 skips it).
#
#   scripts/test.sh [ctest arguments]
#   scripts/test.sh --sanitize [ctest arguments]
#
# --sanitize builds the same tree with AddressSanitizer and UBSan in
# build-asan/ (LLAMAC_SANITIZE) and runs its ctest; any sanitizer report
# fails the test that caused it (docs/fuzzing.md). It copies most end-to-end
# artifacts from build/ (built first) instead of compiling them again.
set -euo pipefail
cd "$(dirname "$0")/.."

SANITIZE=0
if [ "${1:-}" = "--sanitize" ]; then
  SANITIZE=1
  shift
fi

scripts/install-deps.sh

if [ "$SANITIZE" = 1 ]; then
  # The default build's end-to-end artifacts, which the sanitized build
  # copies rather than compiles (test/e2e/CMakeLists.txt); in CI, built
  # already by the first stage.
  scripts/build.sh e2e_artifacts
  LLAMAC_BUILD_DIR=build-asan \
    LLAMAC_CMAKE_FLAGS="-DLLAMAC_SANITIZE=ON -DLLAMAC_E2E_ARTIFACTS_FROM=$PWD/build/test/e2e" \
    scripts/build.sh
  # Reports abort the process (a failed test), with a stack trace.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  cd build-asan
  exec ctest --output-on-failure -j2 "$@"
fi

scripts/build.sh
(cd build && ctest --output-on-failure -j2 "$@")
if [ "${LLAMAC_FUZZ_SECONDS:-20}" != 0 ]; then
  scripts/fuzz.sh --time "${LLAMAC_FUZZ_SECONDS:-20}"
fi
