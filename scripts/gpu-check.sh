#!/usr/bin/env bash
# Checks the NVVM path on a machine with an NVIDIA GPU and the CUDA toolkit
# (not part of the test suite: CI machines have no GPU).
#   1. builds llamac and the tests;
#   2. compiles stories260K for this GPU (f32 and bf16 weights) and runs the
#      driver conformance suite on cuda: decode logits compared with the CPU
#      path, and a bf16 prefill chunk (tensor-core GEMM) with the CPU's;
#   3. generates greedily on cpu and cuda (prompt through prefill, then
#      decode replayed as a CUDA graph) and requires identical tokens;
#   4. the same greedy comparison with int8 and int4 (groups of 32 and 128)
#      weights, each against the CPU artifact of the same quantization;
#   5. with --tp N: compiles stories260K with --tp N for nvvm and runs it
#      under `mpirun -np N`, one GPU per rank, through the NCCL communicator
#      (libnccl.so.2; NCCL_DEBUG=VERSION's line proves it was used), and
#      requires the cpu's tokens. `--tp 1` is what one GPU allows: a TP-1
#      artifact as one MPI rank with a one-rank NCCL communicator (started
#      and destroyed; such an artifact has no all-reduce step to run);
#   6. compiles a synthetic Llama-2-7B-shaped bf16 model (or --preset NAME)
#      for nvvm and runs `llama-run bench --device cuda`, then the same
#      model quantized to int8 and int4 (G = 128): decode tok/s and the share
#      of the measured read bandwidth, counting the bytes a decode step
#      actually reads (quantized values, scales, zeros: bench's weight_bytes).
# Usage: scripts/gpu-check.sh [--preset llama-2-7b] [--work DIR] [--skip-bench] [--tp N]
set -euo pipefail
cd "$(dirname "$0")/.."

PRESET=llama-2-7b
WORK=${TMPDIR:-/tmp}/llamac-gpu-check
BENCH=1
TP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) PRESET=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --skip-bench) BENCH=0; shift ;;
    --tp) TP=$2; shift 2 ;;
    *) echo "error: unknown flag '$1'" >&2; exit 2 ;;
  esac
done

CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
if ! command -v nvidia-smi >/dev/null; then
  echo "error: nvidia-smi not found: this script needs an NVIDIA GPU and driver" >&2
  exit 1
fi
if [ ! -x "$CUDA_HOME/bin/ptxas" ]; then
  echo "error: $CUDA_HOME/bin/ptxas not found: set CUDA_HOME to the CUDA toolkit" >&2
  exit 1
fi
CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
CHIP=sm_${CAP}
echo "gpu-check: $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), chip $CHIP"

bash scripts/build.sh
BIN=build/bin
mkdir -p "$WORK"

echo "== stories260K: driver conformance on cuda (logits vs the cpu path)"
S260="$WORK/stories260K-$CHIP.llamac"
"$BIN/llamac" compile models/stories260K/stories260K.bin -o "$S260" --target nvvm \
  --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --quiet
S260_BF16="$WORK/stories260K-bf16-$CHIP.llamac"
"$BIN/llamac" compile models/stories260K/stories260K.bin -o "$S260_BF16" --target nvvm \
  --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --dtype bf16 --kv-dtype f32 --quiet
LLAMAC_TEST_NVVM_ARTIFACT="$S260" LLAMAC_TEST_NVVM_BF16_ARTIFACT="$S260_BF16" \
  "$BIN/llamac_runtime_tests" \
  --gtest_filter='Drivers/DriverConformanceTest.*/cuda:*GpuDevice*'

echo "== stories260K: greedy tokens, cpu vs cuda"
CPU_ART="$WORK/stories260K-cpu.llamac"
"$BIN/llamac" compile models/stories260K/stories260K.bin -o "$CPU_ART" --quiet
PROMPT="Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends."
tokens() { "$BIN/llama-run" "$1" --device "$2" --prompt "$PROMPT" --max-new-tokens 200 --json --quiet \
  | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated_token_ids"])'; }
CPU_TOKENS=$(tokens "$CPU_ART" cpu)
GPU_TOKENS=$(tokens "$S260" cuda)
if [ "$CPU_TOKENS" != "$GPU_TOKENS" ]; then
  echo "error: cuda tokens differ from cpu tokens" >&2
  echo "cpu:  $CPU_TOKENS" >&2
  echo "cuda: $GPU_TOKENS" >&2
  exit 1
fi
echo "identical: $(echo "$CPU_TOKENS" | tr ',' '\n' | wc -l) tokens"

echo "== stories260K bf16: speculative greedy tokens (verify, a graph) = plain greedy on cuda"
spec_tokens() { "$BIN/llama-run" "$S260_BF16" --device cuda --prompt "$PROMPT" --max-new-tokens 200 \
  --json --quiet "$@" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated_token_ids"])'; }
PLAIN_BF16=$(spec_tokens)
for source in "--prompt-lookup" "--draft $S260_BF16"; do
  # shellcheck disable=SC2086
  if [ "$(spec_tokens $source)" != "$PLAIN_BF16" ]; then
    echo "error: speculative decoding ($source) differs from plain greedy on cuda" >&2
    exit 1
  fi
done
echo "identical with prompt lookup and a self-draft"

echo "== stories260K int8 / int4: greedy tokens, cpu vs cuda (the same quantized bytes)"
for scheme in "int8" "int4 --group-size 32" "int4 --group-size 128"; do
  name=$(echo "$scheme" | tr -d ' -' | sed 's/groupsize/-g/')
  # shellcheck disable=SC2086
  "$BIN/llamac" compile models/stories260K/stories260K.bin -o "$WORK/stories260K-$name-cpu.llamac" \
    --quantize $scheme --int-dot=off --quiet
  # shellcheck disable=SC2086
  "$BIN/llamac" compile models/stories260K/stories260K.bin -o "$WORK/stories260K-$name-$CHIP.llamac" \
    --quantize $scheme --target nvvm --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --quiet
  Q_CPU=$(tokens "$WORK/stories260K-$name-cpu.llamac" cpu)
  Q_GPU=$(tokens "$WORK/stories260K-$name-$CHIP.llamac" cuda)
  if [ "$Q_CPU" != "$Q_GPU" ]; then
    echo "error: $name: cuda tokens differ from cpu tokens" >&2
    echo "cpu:  $Q_CPU" >&2
    echo "cuda: $Q_GPU" >&2
    exit 1
  fi
  echo "$name identical: $(echo "$Q_CPU" | tr ',' '\n' | wc -l) tokens"
done

if [ "$TP" != 0 ]; then
  echo "== stories260K --tp $TP: mpirun -np $TP on cuda through NCCL, tokens vs cpu"
  GPUS=$(nvidia-smi --query-gpu=name --format=csv,noheader | wc -l)
  if ! [[ "$TP" =~ ^[1-9][0-9]*$ ]] || [ "$TP" -gt "$GPUS" ]; then
    echo "error: --tp $TP needs one GPU per rank (this machine has $GPUS)" >&2
    exit 1
  fi
  if ! command -v mpirun >/dev/null; then
    echo "error: mpirun not found (scripts/install-deps.sh installs Open MPI)" >&2
    exit 1
  fi
  TP_ART="$WORK/stories260K-tp$TP-$CHIP.llamac"
  "$BIN/llamac" compile models/stories260K/stories260K.bin -o "$TP_ART" --target nvvm \
    --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --tp "$TP" --quiet
  rm -f "$WORK"/nccl-debug.*
  TP_TOKENS=$(NCCL_DEBUG=VERSION NCCL_DEBUG_FILE="$WORK/nccl-debug.%p" \
    mpirun --allow-run-as-root --stdin none -x NCCL_DEBUG -x NCCL_DEBUG_FILE -np "$TP" \
    "$BIN/llama-run" "$TP_ART" --prompt "$PROMPT" --max-new-tokens 200 --json --quiet \
    | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated_token_ids"])')
  if ! cat "$WORK"/nccl-debug.* 2>/dev/null | grep -q "NCCL version"; then
    echo "error: the ranks did not start NCCL (no NCCL_DEBUG=VERSION line)" >&2
    exit 1
  fi
  if [ "$CPU_TOKENS" != "$TP_TOKENS" ]; then
    echo "error: --tp $TP tokens on cuda differ from cpu tokens" >&2
    echo "cpu:  $CPU_TOKENS" >&2
    echo "tp $TP: $TP_TOKENS" >&2
    exit 1
  fi
  echo "identical through $(cat "$WORK"/nccl-debug.* | grep -m1 -o 'NCCL version [^ ]*')"
fi

# One decode row: tok/s, GB/s over the bytes a step reads, % of the read
# bandwidth measured in the same run.
bench_row() {
  "$BIN/llama-run" bench "$1" --device cuda --prompt-tokens 128 --new-tokens 128 --repeats 3 --json \
    | tail -1 | python3 -c '
import json, sys
r = json.load(sys.stdin)
s = r.get("stats", r)
def med(k):
    v = s.get(k)
    return v.get("median", v) if isinstance(v, dict) else v
print("%s: decode %.1f tok/s, %.1f GB/s of %.1f GB/s measured (%.1f%%), %d bytes/step, prefill128 %.0f tok/s" % (
    sys.argv[1], med("decode_tokens_per_s"), med("decode_gbytes_per_s"), med("measured_read_gbytes_per_s"),
    100 * s["bandwidth_fraction"], s["weight_bytes"], med("prefill_tokens_per_s")))' "$2"
}

if [ "$BENCH" = 1 ]; then
  echo "== $PRESET (bf16) on cuda: llama-run bench"
  SYNTH="$WORK/$PRESET"
  [ -f "$SYNTH/config.json" ] || "$BIN/llamac" synth --preset "$PRESET" --dtype bf16 --seed 1 -o "$SYNTH"
  BIG="$WORK/$PRESET-$CHIP.llamac"
  "$BIN/llamac" compile "$SYNTH" -o "$BIG" --target nvvm --chip "$CHIP" \
    --cuda-toolkit "$CUDA_HOME" --dtype bf16 --max-seq-len 1024
  "$BIN/llama-run" bench "$BIG" --device cuda --prompt-tokens 128 --new-tokens 128 --repeats 3 --json
  # Verify(6) against a decode step, and prompt lookup against plain decode.
  "$BIN/llama-run" bench "$BIG" --device cuda --prompt-tokens 16 --new-tokens 128 --repeats 3 \
    --prompt-lookup --json
  echo "== $PRESET int8 / int4 on cuda: decode bandwidth counting the bytes read"
  bench_row "$BIG" "$PRESET bf16"
  for scheme in "int8" "int4 --group-size 128"; do
    name=$(echo "$scheme" | tr -d ' -' | sed 's/groupsize/-g/')
    QBIG="$WORK/$PRESET-$name-$CHIP.llamac"
    # shellcheck disable=SC2086
    "$BIN/llamac" compile "$SYNTH" -o "$QBIG" --target nvvm --chip "$CHIP" \
      --cuda-toolkit "$CUDA_HOME" --quantize $scheme --max-seq-len 1024 --quiet
    bench_row "$QBIG" "$PRESET $name"
  done
fi
echo "gpu-check: done"
