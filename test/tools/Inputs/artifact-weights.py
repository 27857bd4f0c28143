#!/usr/bin/env python3
"""Prints an artifact's weights table and the weights each schedule section
binds, one fact per line; with --compare A B, how much larger A is than B in
units of B's token embedding table; with --stored A..., for each artifact
the weight bytes the file stores (every rank's tables, each byte once) and
those its views (view_of) read from other weights' bytes. Reads the format of
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


def stored(path):
    meta = metadata(path)
    tables = [meta["weights"]] + [t["weights"] for t in
                                  meta.get("tensor_parallel", {}).get("rank_weights", [])]
    own, views = set(), set()
    for table in tables:
        for w in table:
            (views if "view_of" in w else own).add((w["offset"], w["size"]))
    ranges = sorted(own)
    for (begin, size), (next_begin, _) in zip(ranges, ranges[1:]):
        assert begin + size <= next_begin, "weights overlap at %d" % next_begin
    print("%s: weights stored %d bytes, views %d bytes (%d entries)" % (
        os.path.basename(path), sum(size for _, size in ranges),
        sum(size for _, size in views), len(views)))


if sys.argv[1] == "--compare":
    compare(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "--stored":
    for path in sys.argv[2:]:
        stored(path)
else:
    describe(sys.argv[1])
