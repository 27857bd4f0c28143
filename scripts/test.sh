#!/usr/bin/env bash
# The README's second command: build and run every test (lit, GoogleTest,
# end to end) through ctest, which ends with the passed/failed counts.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
cd build
ctest --output-on-failure -j2 "$@"
