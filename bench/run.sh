#!/usr/bin/env bash
# Compiles a model and benchmarks it with `llama-run bench --json`, then
# prints the headline numbers. See bench/README.md.
#
#   bench/run.sh [MODEL] [llama-run bench flags...]
#
# MODEL: a checkpoint directory or llama2.c .bin (default: the bundled
# stories260K), or synth:PRESET[:DTYPE] for a random-weight model written by
# `llamac synth` (e.g. synth:stories110m:f32). Generated checkpoints and
# artifacts go to a temporary directory that is removed at the end.
# BUILD=dir picks the build directory (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
MODEL=${1:-models/stories260K/stories260K.bin}
[[ $# -gt 0 ]] && shift
for tool in llamac llama-run; do
  [[ -x $BUILD/bin/$tool ]] || { echo "error: $BUILD/bin/$tool not built (scripts/build.sh)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/llamac-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [[ $MODEL == synth:* ]]; then
  IFS=: read -r _ PRESET DTYPE <<<"$MODEL"
  "$BUILD/bin/llamac" synth --preset "$PRESET" --dtype "${DTYPE:-bf16}" \
    --seed 1 -o "$WORK/checkpoint" --quiet
  CHECKPOINT=$WORK/checkpoint
else
  CHECKPOINT=$MODEL
fi

echo "compiling $MODEL" >&2
"$BUILD/bin/llamac" compile "$CHECKPOINT" -o "$WORK/model.llamac" --quiet
"$BUILD/bin/llama-run" bench "$WORK/model.llamac" --json "$@" >"$WORK/bench.out"

tail -n 1 "$WORK/bench.out" | MODEL=$MODEL python3 -c '
import json, os, sys
r = json.loads(sys.stdin.read())
s, m = r["stats"], r["model"]
def spread(k, f="{:.1f}"):
    return (f + " ({}-{})").format(s[k], f.format(s[k + "_min"]), f.format(s[k + "_max"]))
print("model                  ", os.environ["MODEL"], "(" + m["weight_dtype"] + ",", r["threads"], "threads)")
print("prefill tok/s          ", spread("prefill_tokens_per_s"), "at", s["prefill_tokens"], "tokens")
print("time to first token ms ", spread("time_to_first_token_ms", "{:.2f}"))
print("decode tok/s           ", spread("decode_tokens_per_s"))
print("weight bytes per step  ", s["weight_bytes"])
print("decode GB/s            ", spread("decode_gbytes_per_s", "{:.2f}"))
print("measured read GB/s     ", spread("measured_read_gbytes_per_s", "{:.2f}"))
print("bandwidth used         ", "{:.1f}%".format(100 * s["bandwidth_fraction"]))
if "verify" in s:
    v = s["verify"]
    print("verify({}) / decode step".format(v["tokens"]),
          "{:.2f} ({:.2f} / {:.2f} ms)".format(v["cost_in_decode_steps"], v["ms"], v["decode_step_ms"]))
if "speculative" in s:
    p = s["speculative"]
    print("speculative ({}, k {})".format(p["draft"], p["k"]),
          "{:.1f} vs plain {:.1f} tok/s: {:.2f}x; {} target passes for {} tokens; {:.0%} accepted; identical: {}".format(
              p["speculative_decode_tokens_per_s"], p["plain_decode_tokens_per_s"], p["speedup"],
              p["target_passes"], p["tokens"], p["acceptance_rate"], p["identical_tokens"]))
'
