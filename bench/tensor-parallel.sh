#!/usr/bin/env bash
# Tensor parallelism on CPU ranks (docs/tensor-parallel.md): a TinyLlama-shaped
# bf16 model, decode with TP 1 on 1 and 2 threads, and TP 2 as two MPI ranks
# of one thread each bound to a core. Prints one line per configuration:
# decode tok/s (median), and for TP 2 the all-reduce time per step and its
# share of the step. QUANTIZE=int8 (or int4, with GROUP_SIZE) compiles both
# with quantized weights (docs/tensor-parallel.md#quantized-weights).
# Usage: BUILD=build [REPEATS=3] [QUANTIZE=none|int8|int4] [GROUP_SIZE=64] bench/tensor-parallel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPEATS=${REPEATS:-3}
QUANTIZE=${QUANTIZE:-none}
quantize=(--quantize "$QUANTIZE")
[ "$QUANTIZE" = int4 ] && quantize+=(--group-size "${GROUP_SIZE:-64}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MPIRUN=(mpirun --bind-to core --stdin none)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)

"$BUILD/bin/llamac" synth --preset tinyllama-1.1b --dtype bf16 --seed 1 -o "$work/ckpt" --quiet
"$BUILD/bin/llamac" compile "$work/ckpt" -o "$work/tp1.llamac" --quiet "${quantize[@]}"
"$BUILD/bin/llamac" compile "$work/ckpt" -o "$work/tp2.llamac" --quiet "${quantize[@]}" --tp 2
rm -rf "$work/ckpt"
flags=(--prompt-tokens 16 --new-tokens 64 --repeats "$REPEATS" --probe-mib 256 --quiet --json)
summary='import json,sys
r = json.loads(sys.stdin.read().strip().splitlines()[-1]); s = r["stats"]
tp = s.get("tensor_parallel")
line = "%s: decode %.1f tok/s (%.1f-%.1f), weight bytes per rank %.0f MB" % (
    sys.argv[1], s["decode_tokens_per_s"], s["decode_tokens_per_s_min"],
    s["decode_tokens_per_s_max"], s["weight_bytes"] / 1e6)
if tp:
    line += ", all-reduce %.3f ms/step = %.1f%% of decode (%d of %.0f B per step)" % (
        tp["all_reduce_ms_per_step"], 100 * tp["all_reduce_share_of_decode"],
        tp["all_reduces_per_step"], tp["all_reduce_bytes_per_step"])
print(line)'
for threads in 1 2; do
  "$BUILD/bin/llama-run" bench "$work/tp1.llamac" --threads "$threads" "${flags[@]}" |
    python3 -c "$summary" "$QUANTIZE, TP 1, $threads thread(s)"
done
"${MPIRUN[@]}" -np 2 "$BUILD/bin/llama-run" bench "$work/tp2.llamac" --threads 1 "${flags[@]}" |
  python3 -c "$summary" "$QUANTIZE, TP 2 (mpirun -np 2 --bind-to core), 1 thread per rank"
