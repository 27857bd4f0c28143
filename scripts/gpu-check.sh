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
#   4b. the same greedy comparison for stories260K as a Mixtral (its MLP
#      copied into 4 experts, 2 per token): the mixture's GPU kernels;
#   5. with --tp N: compiles stories260K with --tp N for nvvm and runs it
#      under `mpirun -np N`, one GPU per rank, through the NCCL communicator
#      (libnccl.so.2; NCCL_DEBUG=VERSION's line proves it was used), and
#      requires the cpu's tokens. `--tp 1` is what one GPU allows: a TP-1
#      artifact as one MPI rank with a one-rank NCCL communicator (started
#      and destroyed; such an artifact has no all-reduce step to run);
#   6. compiles a synthetic Llama-2-7B-shaped bf16 model (or --preset NAME,
#      with --layers N fewer layers: `--preset mixtral-8x7b --layers 8` fits
#      one 80 GB GPU)
#      for nvvm and runs `llama-run bench --device cuda`, then the same
#      model quantized to int8 and int4 (G = 128): decode tok/s and the share
#      of the measured read bandwidth, counting the bytes a decode step
#      actually reads (quantized values, scales, zeros: bench's weight_bytes);
#      with --gemv "rows split-k", each of them in both GEMV shapes
#      (llamac --gpu-gemv), benched in the same run.
#
# A GPU machine without MLIR (a lent one often has only the CUDA driver and
# toolkit) runs the check in two halves:
#   --prepare DIR  (on a build host with the CUDA toolkit, no GPU needed)
#                  builds, compiles every artifact for --chip (default sm_90),
#                  records the cpu's tokens, and writes llama-run, the test
#                  binary and their shared libraries into DIR; the big
#                  model travels as a skeleton without its weights
#                  (scripts/artifact-skeleton.py);
#   --from DIR     (on the GPU machine) runs the checks and benchmarks with
#                  what DIR holds, the big model's weights random again.
# A failed check is reported and the others still run; the exit status is 1
# if any failed.
# Usage: scripts/gpu-check.sh [--preset llama-2-7b [--layers N]] [--work DIR] [--skip-bench] [--skip-checks]
#                             [--tp N] [--gemv "rows split-k"]
#                             [--prepare DIR [--chip sm_NN] | --from DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

PRESET=llama-2-7b
LAYERS=
WORK=${TMPDIR:-/tmp}/llamac-gpu-check
BENCH=1
CHECKS=1
TP=0
MODE=all
BUNDLE=
CHIP=
GEMVS=rows
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) PRESET=$2; shift 2 ;;
    --layers) LAYERS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --skip-bench) BENCH=0; shift ;;
    --skip-checks) CHECKS=0; shift ;;
    --tp) TP=$2; shift 2 ;;
    --prepare) MODE=prepare; BUNDLE=$2; shift 2 ;;
    --from) MODE=from; BUNDLE=$2; shift 2 ;;
    --chip) CHIP=$2; shift 2 ;;
    --gemv) GEMVS=$2; shift 2 ;;
    *) echo "error: unknown flag '$1'" >&2; exit 2 ;;
  esac
done

CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
compiling() { [ "$MODE" != from ]; }
running() { [ "$MODE" != prepare ]; }
checking() { running && [ "$CHECKS" = 1 ]; }
FAILED=0
fail() { echo "error: $*" >&2; FAILED=1; }
if [ "$MODE" != all ] && [ -z "$BUNDLE" ]; then
  echo "error: --prepare and --from need a directory" >&2
  exit 2
fi

if running; then
  if ! command -v nvidia-smi >/dev/null; then
    echo "error: nvidia-smi not found: this script needs an NVIDIA GPU and driver" >&2
    exit 1
  fi
  CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
  GPU_CHIP=sm_${CAP}
  echo "gpu-check: $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), chip $GPU_CHIP"
fi
if compiling && [ ! -x "$CUDA_HOME/bin/ptxas" ]; then
  echo "error: $CUDA_HOME/bin/ptxas not found: set CUDA_HOME to the CUDA toolkit" >&2
  exit 1
fi

# BIN holds the programs that run; LIBS the shared libraries a bundle
# carries for them (given to them alone, not to python3 or mpirun).
BIN=build/bin
LIBS=
case "$MODE" in
  all)
    CHIP=${CHIP:-$GPU_CHIP}
    bash scripts/build.sh ;;
  prepare)
    CHIP=${CHIP:-sm_90}
    WORK=$BUNDLE/artifacts
    bash scripts/build.sh
    rm -rf "$BUNDLE"
    mkdir -p "$BUNDLE/bin" "$BUNDLE/lib" "$BUNDLE/e2e" "$WORK"
    cp "$BIN/llama-run" "$BIN/llamac_runtime_tests" "$BUNDLE/bin/"
    # Every library but the C/C++ runtime's, which the GPU machine has (newer).
    ldd "$BIN/llama-run" "$BIN/llamac_runtime_tests" | awk '/=> \//{print $3}' | sort -u \
      | grep -v -E '/(libc|libm|libstdc\+\+|libgcc_s|libdl|libpthread|librt)\.so' \
      | xargs -I{} cp -L {} "$BUNDLE/lib/"
    # The test binary names the cpu's stories260K artifacts by this build's paths.
    cp build/test/e2e/stories260K-bin.llamac build/test/e2e/stories260K-bin-bf16.llamac \
      build/test/e2e/stories260K-bin-bf16-widen.llamac "$BUNDLE/e2e/"
    printf 'CHIP=%s\nSOURCE_DIR=%s\n' "$CHIP" "$PWD" >"$BUNDLE/env" ;;
  from)
    # shellcheck disable=SC1091
    . "$BUNDLE/env"
    if [ "$CHIP" != "$GPU_CHIP" ]; then
      echo "error: $BUNDLE was prepared for $CHIP, this GPU is $GPU_CHIP (--prepare DIR --chip $GPU_CHIP)" >&2
      exit 1
    fi
    WORK=$BUNDLE/artifacts
    BIN=$BUNDLE/bin
    LIBS=$(cd "$BUNDLE/lib" && pwd)
    if [ "$PWD" != "$SOURCE_DIR" ] && [ ! -e "$SOURCE_DIR" ]; then
      mkdir -p "$(dirname "$SOURCE_DIR")" && ln -s "$PWD" "$SOURCE_DIR"
    fi
    mkdir -p "$SOURCE_DIR/build/test/e2e"
    cp -n "$BUNDLE"/e2e/*.llamac "$SOURCE_DIR/build/test/e2e/" ;;
esac
mkdir -p "$WORK"
tool() { local name=$1; shift; LD_LIBRARY_PATH=$LIBS "$BIN/$name" "$@"; }
compile() { build/bin/llamac compile "$@"; }

S260="$WORK/stories260K-$CHIP.llamac"
S260_BF16="$WORK/stories260K-bf16-$CHIP.llamac"
if compiling; then
  compile models/stories260K/stories260K.bin -o "$S260" --target nvvm \
    --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --quiet
  compile models/stories260K/stories260K.bin -o "$S260_BF16" --target nvvm \
    --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --dtype bf16 --kv-dtype f32 --quiet
fi
if checking; then
  echo "== stories260K: driver conformance on cuda (logits vs the cpu path)"
  LLAMAC_TEST_NVVM_ARTIFACT="$S260" LLAMAC_TEST_NVVM_BF16_ARTIFACT="$S260_BF16" \
    tool llamac_runtime_tests \
    --gtest_filter='Drivers/DriverConformanceTest.*/cuda:GpuDeviceTest.*' || fail "driver conformance on cuda"
fi

PROMPT="Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends."
tokens() { tool llama-run "$1" --device "$2" --prompt "$PROMPT" --max-new-tokens 200 --json --quiet \
  | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated_token_ids"])'; }
# The cpu's tokens for `name`, from artifact `cpu_art`: generated where the
# artifacts are compiled, recorded beside them for --from.
cpu_tokens() {
  if compiling; then tokens "$2" cpu | tee "$WORK/$1.cpu-tokens"; else cat "$WORK/$1.cpu-tokens"; fi
}

# Says whether `name`'s cuda tokens ($3) are the cpu's ($2); fails if not.
same_tokens() {
  if [ "$2" != "$3" ]; then
    fail "$1: cuda tokens differ from cpu tokens"
    echo "cpu:  $2" >&2
    echo "cuda: $3" >&2
  else
    echo "$1 identical: $(echo "$2" | tr ',' '\n' | wc -l) tokens"
  fi
}

CPU_ART="$WORK/stories260K-cpu.llamac"
compiling && compile models/stories260K/stories260K.bin -o "$CPU_ART" --quiet
CPU_TOKENS=$(cpu_tokens stories260K "$CPU_ART")
if checking; then
  echo "== stories260K: greedy tokens, cpu vs cuda"
  GPU_TOKENS=$(tokens "$S260" cuda) || true
  same_tokens stories260K "$CPU_TOKENS" "$GPU_TOKENS"

  echo "== stories260K bf16: speculative greedy tokens (verify, a graph) = plain greedy on cuda"
  spec_tokens() { tool llama-run "$S260_BF16" --device cuda --prompt "$PROMPT" --max-new-tokens 200 \
    --json --quiet "$@" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated_token_ids"])'; }
  PLAIN_BF16=$(spec_tokens) || true
  for source in "--prompt-lookup" "--draft $S260_BF16"; do
    # shellcheck disable=SC2086
    SPEC=$(spec_tokens $source) || true
    if [ -z "$PLAIN_BF16" ] || [ "$SPEC" != "$PLAIN_BF16" ]; then
      fail "speculative decoding ($source) differs from plain greedy on cuda"
      echo "plain:       $PLAIN_BF16" >&2
      echo "speculative: $SPEC" >&2
    else
      echo "identical with $source"
    fi
  done
fi

checking && echo "== stories260K int8 / int4: greedy tokens, cpu vs cuda (the same quantized bytes)"
for scheme in "int8" "int4 --group-size 32" "int4 --group-size 128"; do
  name=$(echo "$scheme" | tr -d ' -' | sed 's/groupsize/-g/')
  if compiling; then
    # shellcheck disable=SC2086
    compile models/stories260K/stories260K.bin -o "$WORK/stories260K-$name-cpu.llamac" \
      --quantize $scheme --int-dot=off --quiet
    # shellcheck disable=SC2086
    compile models/stories260K/stories260K.bin -o "$WORK/stories260K-$name-$CHIP.llamac" \
      --quantize $scheme --target nvvm --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --quiet
  fi
  Q_CPU=$(cpu_tokens "stories260K-$name" "$WORK/stories260K-$name-cpu.llamac")
  if checking; then
    Q_GPU=$(tokens "$WORK/stories260K-$name-$CHIP.llamac" cuda) || true
    same_tokens "$name" "$Q_CPU" "$Q_GPU"
  fi
done

# A Mixtral whose 4 experts are copies of stories260K's MLP, 2 per token,
# with a random router (test/tools/Inputs/make-mixtral.py): the mixture's
# GPU kernels (routing on the device, the picked experts' GEMVs) against the
# cpu's artifact of the same checkpoint and quantization.
MIXTRAL="$WORK/stories260K-mixtral"
if compiling; then
  rm -rf "$MIXTRAL"
  python3 test/tools/Inputs/make-mixtral.py models/stories260K-hf "$MIXTRAL" 4 2
fi
checking && echo "== stories260K as a Mixtral (f32, int8, int4): greedy tokens, cpu vs cuda"
for scheme in "f32" "int8" "int4 --group-size 32"; do
  name=mixtral-$(echo "$scheme" | tr -d ' -' | sed 's/groupsize/-g/')
  if [ "$scheme" = f32 ]; then flags=(); else read -ra flags <<<"--quantize $scheme"; fi
  if compiling; then
    compile "$MIXTRAL" -o "$WORK/$name-cpu.llamac" "${flags[@]}" --int-dot=off --quiet
    compile "$MIXTRAL" -o "$WORK/$name-$CHIP.llamac" "${flags[@]}" --target nvvm --chip "$CHIP" \
      --cuda-toolkit "$CUDA_HOME" --quiet
  fi
  M_CPU=$(cpu_tokens "$name" "$WORK/$name-cpu.llamac")
  if checking; then
    M_GPU=$(tokens "$WORK/$name-$CHIP.llamac" cuda) || true
    same_tokens "$name" "$M_CPU" "$M_GPU"
  fi
done

# The split-K GEMV shape (--gemv with split-k): the same greedy tokens.
if [[ " $GEMVS " == *" split-k "* ]]; then
  checking && echo "== stories260K with --gpu-gemv split-k: greedy tokens, cpu vs cuda"
  for scheme in "f32" "int4 --group-size 32"; do
    name=$(echo "$scheme" | tr -d ' -' | sed 's/groupsize/-g/')
    if [ "$name" = f32 ]; then flags=(); ref=stories260K; else read -ra flags <<<"--quantize $scheme"; ref=stories260K-$name; fi
    art="$WORK/stories260K-$name-split-k-$CHIP.llamac"
    if compiling; then
      compile models/stories260K/stories260K.bin -o "$art" "${flags[@]}" --gpu-gemv split-k \
        --target nvvm --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --quiet
    fi
    if checking; then
      SPLIT_GPU=$(tokens "$art" cuda) || true
      same_tokens "$name split-k" "$(cat "$WORK/$ref.cpu-tokens")" "$SPLIT_GPU"
    fi
  done
fi

if [ "$TP" != 0 ]; then
  TP_ART="$WORK/stories260K-tp$TP-$CHIP.llamac"
  if compiling; then
    compile models/stories260K/stories260K.bin -o "$TP_ART" --target nvvm \
      --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" --tp "$TP" --quiet
  fi
fi
if [ "$TP" != 0 ] && checking; then
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
  rm -f "$WORK"/nccl-debug.*
  TP_TOKENS=$(NCCL_DEBUG=VERSION NCCL_DEBUG_FILE="$WORK/nccl-debug.%p" \
    mpirun --allow-run-as-root --stdin none -x NCCL_DEBUG -x NCCL_DEBUG_FILE -x LD_LIBRARY_PATH="$LIBS" \
    -np "$TP" "$BIN/llama-run" "$TP_ART" --prompt "$PROMPT" --max-new-tokens 200 --json --quiet \
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

# One decode row from a bench's --json: tok/s, GB/s over the bytes a step
# reads, % of the read bandwidth measured in the same run.
bench_row() {
  tail -1 "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)
s = r.get("stats", r)
def med(k):
    v = s.get(k)
    return v.get("median", v) if isinstance(v, dict) else v
verify = s.get("verify") or {}
print("%s: decode %.1f tok/s, %.1f GB/s of %.1f GB/s measured (%.1f%%), %d bytes/step, prefill128 %.0f tok/s, verify(%s) %.2f ms" % (
    sys.argv[1], med("decode_tokens_per_s"), med("decode_gbytes_per_s"), med("measured_read_gbytes_per_s"),
    100 * s["bandwidth_fraction"], s["weight_bytes"], med("prefill_tokens_per_s"),
    verify.get("tokens", "-"), verify.get("ms", float("nan"))))' "$2"
}

# The big model `name` compiled with the given flags: written where it is
# compiled; with --prepare kept only as a skeleton (no weight bytes), which
# --from expands with random weights into BIG_DIR and deletes after use.
BIG_DIR=${TMPDIR:-/tmp}/llamac-gpu-check-big
big_artifact() {
  local name=$1; shift
  local art="$BIG_DIR/$name.llamac"
  mkdir -p "$BIG_DIR"
  if compiling; then
    compile "$SYNTH" -o "$art" --target nvvm --chip "$CHIP" --cuda-toolkit "$CUDA_HOME" \
      --max-seq-len 1024 --quiet "$@" >&2
    if [ "$MODE" = prepare ]; then
      python3 scripts/artifact-skeleton.py split "$art" "$WORK/$name.skeleton" >&2
      rm -f "$art"
    fi
  else
    python3 scripts/artifact-skeleton.py expand "$WORK/$name.skeleton" "$art" >&2
  fi
  echo "$art"
}

if [ "$BENCH" = 1 ]; then
  SYNTH=${SYNTH:-${TMPDIR:-/tmp}/llamac-gpu-check/$PRESET${LAYERS:+-$LAYERS-layers}}
  if compiling && [ ! -f "$SYNTH/config.json" ]; then
    build/bin/llamac synth --preset "$PRESET" ${LAYERS:+--layers "$LAYERS"} --dtype bf16 --seed 1 -o "$SYNTH"
  fi
  ROWS=()
  for variant in $(for scheme in bf16 int8 int4-g128; do for gemv in $GEMVS; do echo "$scheme:$gemv"; done; done); do
    scheme=${variant%%:*} gemv=${variant#*:}
    case "$gemv" in
      rows) name=$scheme ;;
      split-k) name=$scheme-$gemv ;;
      *) echo "error: unknown --gemv shape '$gemv' (rows, split-k)" >&2; exit 2 ;;
    esac
    case "$scheme" in
      bf16) flags=(--dtype bf16) ;;
      int8) flags=(--quantize int8) ;;
      int4-g128) flags=(--quantize int4 --group-size 128) ;;
    esac
    flags+=(--gpu-gemv "$gemv")
    BIG=$(big_artifact "$PRESET-$name-$CHIP" "${flags[@]}")
    running || continue
    echo "== $PRESET $name on cuda: llama-run bench (decode bandwidth counting the bytes read)"
    if tool llama-run bench "$BIG" --device cuda --prompt-tokens 128 --new-tokens 128 --repeats 3 \
      --json | tee "$WORK/$name.bench.json"; then
      ROWS+=("$(bench_row "$WORK/$name.bench.json" "$PRESET $name")")
    else
      fail "$PRESET $name: bench failed"
    fi
    if [ "$name" = bf16 ]; then
      # Verify(6) against a decode step, and prompt lookup against plain decode.
      tool llama-run bench "$BIG" --device cuda --prompt-tokens 16 --new-tokens 128 --repeats 3 \
        --prompt-lookup --json || fail "$PRESET bf16: prompt-lookup bench failed"
    fi
    [ "$MODE" = from ] && rm -f "$BIG"
  done
  running && printf '%s\n' "${ROWS[@]}"
fi
if [ "$MODE" = prepare ]; then
  echo "gpu-check: prepared $BUNDLE ($(du -sh "$BUNDLE" | cut -f1)); run scripts/gpu-check.sh --from $BUNDLE on the GPU machine"
elif [ "$FAILED" = 0 ]; then
  echo "gpu-check: done"
else
  echo "gpu-check: done, with failures (error: lines above)"
  exit 1
fi
