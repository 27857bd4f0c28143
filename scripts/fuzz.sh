#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz/) with clang-22, ASan and UBSan in
# build-fuzz/, then runs each for a fixed time or number of inputs, one at a
# time. Exits non-zero on the first crash, leak, timeout or sanitizer report;
# libFuzzer leaves the input that caused it in build-fuzz/crashes/.
#
#   scripts/fuzz.sh [--time S] [--runs N] [target...]
#
# --time S   seconds per target (default 30)
# --runs N   stop each target after N inputs instead (docs/fuzzing.md's
#            10^6 runs); with both, whichever comes first
# target     safetensors hf_config llama2c tokenizer_model prompt prompt_bpe
#            artifact
#            (default: all)
#
# Each target starts from its seeds and regression inputs in
# test/fuzz/corpus/<target>/ (read only) and keeps what it learns in
# build-fuzz/corpus/<target>/ for the next run. The artifact target fuzzes
# metadata on top of stories260K compiled by the default build's llamac
# (${LLAMAC_BUILD_DIR:-build}; scripts/build.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(safetensors hf_config llama2c tokenizer_model prompt prompt_bpe artifact)
SECONDS_PER_TARGET=""
RUNS=""
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) SECONDS_PER_TARGET=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set/!p}' "$0"; exit 0 ;;
    -*) echo "error: unknown option $1 (see scripts/fuzz.sh --help)" >&2; exit 2 ;;
    *)
      if [[ ! " ${ALL_TARGETS[*]} " =~ " $1 " ]]; then
        echo "error: unknown fuzz target '$1' (one of: ${ALL_TARGETS[*]})" >&2
        exit 2
      fi
      TARGETS+=("$1"); shift ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
# --runs alone sets no time limit.
if [ -z "$SECONDS_PER_TARGET" ] && [ -z "$RUNS" ]; then
  SECONDS_PER_TARGET=30
fi

FUZZ_DIR=${LLAMAC_FUZZ_BUILD_DIR:-build-fuzz}
MAIN_DIR=${LLAMAC_BUILD_DIR:-build}

LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(cd .. && pwd)}
fi
if [ ! -f "$FUZZ_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$FUZZ_DIR" "${LAUNCHER[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DLLAMAC_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 >/dev/null
fi
ninja -C "$FUZZ_DIR" ${LLAMAC_JOBS:+-j"$LLAMAC_JOBS"}

# The artifact target's base, recompiled when llamac changes.
BASE_ARTIFACT=$FUZZ_DIR/stories260K.llamac
if [[ " ${TARGETS[*]} " =~ " artifact " ]]; then
  if [ ! -x "$MAIN_DIR/bin/llamac" ]; then
    echo "error: $MAIN_DIR/bin/llamac is missing; run scripts/build.sh first" >&2
    exit 1
  fi
  if [ ! -f "$BASE_ARTIFACT" ] || [ "$MAIN_DIR/bin/llamac" -nt "$BASE_ARTIFACT" ]; then
    "$MAIN_DIR/bin/llamac" compile models/stories260K/stories260K.bin \
      -o "$BASE_ARTIFACT" --quiet
  fi
fi
export LLAMAC_FUZZ_ARTIFACT=$PWD/$BASE_ARTIFACT

# Any sanitizer report is fatal and names the input; leaks are checked.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

FLAGS=(-max_total_time="${SECONDS_PER_TARGET:-0}" -timeout=10
       -rss_limit_mb=2048 -print_final_stats=1)
[ -z "$RUNS" ] || FLAGS+=(-runs="$RUNS")

SUMMARY=()
for target in "${TARGETS[@]}"; do
  corpus=$FUZZ_DIR/corpus/$target
  crashes=$FUZZ_DIR/crashes/$target
  log=$FUZZ_DIR/logs/$target.log
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  if [ "$target" = artifact ]; then
    "$FUZZ_DIR/bin/fuzz_artifact" --write-seed="$corpus/seed-stories260K"
  fi
  # JSON syntax plus the target's own keywords (test/fuzz/dict/).
  dict=()
  if [ -f "test/fuzz/dict/$target.dict" ]; then
    mkdir -p "$FUZZ_DIR/dicts"
    cat test/fuzz/dict/json.dict "test/fuzz/dict/$target.dict" \
      > "$FUZZ_DIR/dicts/$target.dict"
    dict=(-dict="$FUZZ_DIR/dicts/$target.dict")
  fi
  echo "fuzz: $target (${RUNS:+$RUNS inputs}${RUNS:+${SECONDS_PER_TARGET:+ or }}${SECONDS_PER_TARGET:+${SECONDS_PER_TARGET}s})"
  start=$(date +%s)
  if ! "$FUZZ_DIR/bin/fuzz_$target" "${FLAGS[@]}" "${dict[@]}" \
      -artifact_prefix="$crashes/" \
      "$corpus" "test/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "error: fuzz target $target failed (log: $log; inputs: $crashes/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  SUMMARY+=("$(printf '%-16s %10s inputs  %6s/s  %4ss' "$target" "$runs" "$rate" \
    "$(( $(date +%s) - start ))")")
done
echo "fuzz: no crash, leak or sanitizer report"
printf '  %s\n' "${SUMMARY[@]}"
