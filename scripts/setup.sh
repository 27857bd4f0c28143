#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run
# llamac's main job on the bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "llamac: building"
scripts/build.sh

if [ -x build/bin/llamac ] && [ -x build/bin/llama-run ]; then
  echo "llamac: compiling models/stories260K for the CPU"
  build/bin/llamac compile models/stories260K/stories260K.bin -o build/stories260K.llamac
  echo "llamac: generating"
  build/bin/llama-run build/stories260K.llamac --prompt "Once upon a time" --max-new-tokens 200
else
  echo "llamac: lowering the example 2-layer GQA graph to linalg"
  build/bin/llama-opt examples/tiny-gqa-2layer.mlir --llama-linalg-pipeline -o build/tiny-gqa-2layer.linalg.mlir
  echo "llamac: wrote build/tiny-gqa-2layer.linalg.mlir ($(grep -c linalg.generic build/tiny-gqa-2layer.linalg.mlir) linalg.generic ops)"
fi
