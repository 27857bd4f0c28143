#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run
# llamac's main job on the bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "llamac: building"
scripts/build.sh

echo "llamac: compiling models/stories260K for the CPU"
build/bin/llamac compile models/stories260K/stories260K.bin -o build/stories260K.llamac
echo "llamac: generating"
build/bin/llama-run build/stories260K.llamac --prompt "Once upon a time" --max-new-tokens 200
