#!/usr/bin/env python3
"""Checks a tensor-parallel artifact's weights against the single-process
artifact of the same model and quantization: every tensor of every rank's
table must be the same-named tensor of the single-process artifact, whole
(replicated) or cut along one axis at the rank's share (split); a tied
classifier's rows (X.classifier) are cut from the embedding table X. Reads the
format of docs/artifact-format.md directly, so it checks the writer and the
sharding of quantized tensors independently. One line per weight; a
mismatch names the weight and rank and exits non-zero.

    tp-shards-of.py <single.llamac> <tp.llamac>
"""
import json
import struct
import sys

SIZES = {"f32": 4, "bf16": 2, "f16": 2, "i8": 1}


def load(path):
    data = open(path, "rb").read()
    assert data[:8] == b"LLAMACAF", path + ": bad magic"
    offset, size = struct.unpack_from("<QQ", data, 16)
    return data, json.loads(data[offset:offset + size])


def product(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def cut(blob, shape, size, axis, begin, count):
    """The elements [begin, begin + count) along `axis` of a row-major tensor."""
    extent, inner = shape[axis], product(shape[axis + 1:]) * size
    out = bytearray()
    for o in range(product(shape[:axis])):
        start = (o * extent + begin) * inner
        out += blob[start:start + count * inner]
    return bytes(out)


single_data, single = load(sys.argv[1])
tp_data, tp = load(sys.argv[2])
whole = {w["name"]: w for w in single["weights"]}
tables = [tp["weights"]] + [t["weights"] for t in tp["tensor_parallel"]["rank_weights"]]
ranks = len(tables)
status = 0
for i, first in enumerate(tables[0]):
    name = first["name"]
    # A tied classifier split by vocabulary is stored under a name of its
    # own, X.classifier (and its quantized parts X.classifier.int8, ...):
    # its bytes are rows of the single-process artifact's X.
    ref = whole.get(name.replace(".classifier", "", 1))
    if ref is None:
        print("weight", name, "missing from the single-process artifact")
        status = 1
        continue
    ref_bytes = single_data[ref["offset"]:ref["offset"] + ref["size"]]
    axes = [a for a, (n, m) in enumerate(zip(first["shape"], ref["shape"])) if n != m]
    how = "whole" if not axes else "split axis %d" % axes[0]
    for rank, table in enumerate(tables):
        w = table[i]
        got = tp_data[w["offset"]:w["offset"] + w["size"]]
        if not axes:
            want = ref_bytes
        else:
            count = w["shape"][axes[0]]
            want = cut(ref_bytes, ref["shape"], SIZES[ref["dtype"]], axes[0], rank * count, count)
        if w["name"] != name or w["dtype"] != ref["dtype"] or got != want:
            print("weight", name, "rank", rank, "differs from the single-process bytes")
            status = 1
    # An unquantized tied classifier's rows are read in place from the
    # embedding table (view_of): no bytes of its own.
    views = {table[i].get("view_of") for table in tables}
    if views != {None}:
        how += ", view of " + ",".join(sorted(views, key=str))
    print("weight", name, ref["dtype"], first["shape"], "of", ref["shape"], how)
sys.exit(status)
