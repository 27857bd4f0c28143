#!/usr/bin/env python3
"""same-greedy-tokens.py RUN.json GREEDY.json PROMPT STEPS

Compares the generated ids of a `llama-run --json` output with llama2.c's
greedy run of PROMPT for STEPS steps in GREEDY.json (test/data/reference):
prints "same N tokens as llama2.c", or the first difference and exits 1.
"""
import json
import sys


def main(run_path, greedy_path, prompt, steps):
    with open(run_path) as f:
        got = json.load(f)["generated_token_ids"]
    with open(greedy_path) as f:
        cases = [c for c in json.load(f)
                 if c["prompt"] == prompt and c["steps"] == int(steps) and c["temperature"] == 0]
    if len(cases) != 1:
        sys.exit("no single llama2.c greedy case for prompt %r, %s steps" % (prompt, steps))
    want = cases[0]["generated_token_ids"]
    if got != want:
        at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        sys.exit("differs from llama2.c at generated token %d: %s vs %s (%d vs %d tokens)"
                 % (at, got[at:at + 4], want[at:at + 4], len(got), len(want)))
    print("same %d tokens as llama2.c" % len(got))


if __name__ == "__main__":
    main(*sys.argv[1:])
