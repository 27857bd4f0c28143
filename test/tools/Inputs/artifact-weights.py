#!/usr/bin/env python3
"""Prints an artifact's weights table and the weights each schedule section
binds, one fact per line; with --compare A B, how much larger A is than B in
units of B's token embedding table. Reads the format of
docs/artifact-format.md directly (header and metadata only), so it is an
independent check of the writer."""
import json
import os
import struct
import sys


def metadata(path):
    with open(path, "rb") as f:
        header = f.read(64)
        assert header[:8] == b"LLAMACAF", "bad magic"
        offset, size = struct.unpack_from("<QQ", header, 16)
        f.seek(offset)
        return json.loads(f.read(size))


def describe(path):
    meta = metadata(path)
    for w in meta["weights"]:
        print("weight", w["name"], w["dtype"], w["shape"], w["size"])
    for ep_name in sorted(meta["entry_points"]):
        schedule = meta["entry_points"][ep_name]["schedule"]
        for section in ("prologue", "layer_body", "epilogue"):
            names = sorted({b["name"] for d in schedule[section]
                            for b in d["bindings"] if b["kind"] == "weight"})
            print(ep_name, section, "binds", " ".join(names))


def compare(larger, smaller):
    table = next(w for w in metadata(smaller)["weights"] if w["name"] == "tok_embeddings")
    difference = os.path.getsize(larger) - os.path.getsize(smaller)
    print("larger by %.2f embedding tables (%d bytes)" % (difference / table["size"], difference))


if sys.argv[1] == "--compare":
    compare(sys.argv[2], sys.argv[3])
else:
    describe(sys.argv[1])
