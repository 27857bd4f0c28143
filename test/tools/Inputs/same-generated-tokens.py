#!/usr/bin/env python3
"""same-generated-tokens.py A.json B.json

Compares the generated ids of two `llama-run --json` outputs: prints
"same N tokens", or the first difference and exits 1.
"""
import json
import sys


def main(a_path, b_path):
    with open(a_path) as f:
        a = json.load(f)["generated_token_ids"]
    with open(b_path) as f:
        b = json.load(f)["generated_token_ids"]
    if not a or a != b:
        at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        sys.exit("differ at generated token %d: %s vs %s (%d vs %d tokens)"
                 % (at, a[at:at + 4], b[at:at + 4], len(a), len(b)))
    print("same %d tokens" % len(a))


if __name__ == "__main__":
    main(*sys.argv[1:])
