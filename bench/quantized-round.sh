#!/usr/bin/env bash
# One round of the quantized comparison (bench/README.md, issue 12): llama.cpp's
# q8_0 / q4_0 (`llama-bench`, pp128 and tg32) and llamac artifacts (`llama-run
# bench`, prefill 128, decode 32, verify cost), back to back on the same threads,
# with the load average before and after. Run it several times and compare rows
# of the same round only: the machine is shared.
#
#   LLAMA_BENCH=/path/llama-bench GGUFS="q8_0=a.gguf q4_0=b.gguf" \
#     bench/quantized-round.sh NAME=ARTIFACT.llamac...
#
# Either list may be empty (GGUFS="" skips llama.cpp). BUILD=dir picks the
# build directory (default: build), THREADS the threads (default 2).
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "round $(date -u +%H:%M:%S) load $(load)"
for entry in ${GGUFS:-}; do
  name=${entry%%=*} gguf=${entry#*=}
  # jsonl: one object per line (this llama.cpp's `-o json` misses the comma
  # between two tests' objects).
  "${LLAMA_BENCH:?set LLAMA_BENCH to the llama-bench binary}" -m "$gguf" -p 128 -n 32 \
    -t "$THREADS" -r 3 -o jsonl 2>/dev/null | NAME=$name python3 -c '
import json, os, sys
for line in sys.stdin:
    if not line.strip().startswith("{"):
        continue
    r = json.loads(line)
    kind = "pp%d" % r["n_prompt"] if r["n_prompt"] else "tg%d" % r["n_gen"]
    ts = sorted(r["samples_ts"])
    print("  llama.cpp %-6s %s %.2f tok/s (%.2f-%.2f, %d runs)" % (
        os.environ["NAME"], kind, ts[len(ts) // 2], ts[0], ts[-1], len(ts)))'
  echo "  load $(load)"
done
for entry in "$@"; do
  name=${entry%%=*} art=${entry#*=}
  "$BUILD/bin/llama-run" bench "$art" --threads "$THREADS" --prompt-tokens 128 \
    --new-tokens 32 --repeats 3 --json 2>/dev/null | tail -n 1 | NAME=$name python3 -c '
import json, os, sys
r = json.loads(sys.stdin.read())
s, m = r["stats"], r["model"]
v = s.get("verify")
print("  llamac %-10s pp128 %.1f tok/s | decode %.2f tok/s (%.2f-%.2f) %.1f GB/s | probe %.1f GB/s | %.1f%% | %.0f MB/step | %s%s" % (
    os.environ["NAME"], s["prefill"][0]["tokens_per_s"], s["decode_tokens_per_s"],
    s["decode_tokens_per_s_min"], s["decode_tokens_per_s_max"], s["decode_gbytes_per_s"],
    s["measured_read_gbytes_per_s"], 100 * s["bandwidth_fraction"],
    (s["weight_bytes"] + s["kv_cache_bytes_per_step"]) / 1e6, m.get("prefill_kernels", "?"),
    " | verify(%d) %.1f ms = %.2f decode steps (%.1f ms)" % (
        v["tokens"], v["ms"], v["cost_in_decode_steps"], v["decode_step_ms"]) if v else ""))'
  echo "  load $(load)"
done
echo "end $(date -u +%H:%M:%S) load $(load)"
