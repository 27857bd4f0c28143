#!/usr/bin/env python3
"""Carries a large artifact to a machine that cannot compile it, without its weights.

A GPU machine lent for a check may have the CUDA driver but not MLIR, and a
13 GB Llama-2-7B artifact does not travel. `split` keeps what llamac
compiled (header, tokenizer, kernels; metadata) and drops the weight bytes;
`expand` rebuilds an artifact of the same layout whose weights are random
finite values of each tensor's dtype. Only speed is measured on it: the
weights' xxh3 in the metadata are the originals', so `llama-run check` and
`--verify` refuse it, while plain loading (which reads no weight hashes) runs.

  artifact-skeleton.py split ARTIFACT SKELETON_DIR
  artifact-skeleton.py expand SKELETON_DIR ARTIFACT
"""
import array
import json
import os
import random
import struct
import sys

HEADER_SIZE = 64
BLOCK_BYTES = 16 << 20  # one random block, written again and again


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def read_header(data):
    if len(data) < HEADER_SIZE or data[:8] != b"LLAMACAF":
        fail("not a llamac artifact (no LLAMACAF magic)")
    meta_offset, meta_size = struct.unpack_from("<QQ", data, 16)
    (total,) = struct.unpack_from("<Q", data, 40)
    return meta_offset, meta_size, total


def weight_tables(meta):
    tables = [meta.get("weights", [])]
    for rank in meta.get("tensor_parallel", {}).get("rank_weights", []):
        tables.append(rank["weights"])
    return [w for table in tables for w in table]


def split(artifact, out_dir):
    with open(artifact, "rb") as f:
        meta_offset, meta_size, total = read_header(f.read(HEADER_SIZE))
        if os.path.getsize(artifact) != total:
            fail(f"{artifact}: {os.path.getsize(artifact)} bytes, the header says {total}")
        f.seek(meta_offset)
        tail = f.read(total - meta_offset)
        weights = weight_tables(json.loads(tail[:meta_size]))
        first = min((w["offset"] for w in weights), default=meta_offset)
        f.seek(0)
        head = f.read(first)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "head.bin"), "wb") as f:
        f.write(head)
    with open(os.path.join(out_dir, "tail.bin"), "wb") as f:
        f.write(tail)
    print(f"{artifact}: kept {len(head) + len(tail)} of {total} bytes in {out_dir}")


def random_block(dtype, rng):
    """BLOCK_BYTES of finite values about the size of trained weights."""
    if dtype in ("i8", "u8"):
        return rng.randbytes(BLOCK_BYTES)
    if dtype == "f32":
        return array.array("f", (rng.gauss(0, 0.02) for _ in range(BLOCK_BYTES // 4))).tobytes()
    if dtype == "bf16":
        f32 = array.array("f", (rng.gauss(0, 0.02) for _ in range(BLOCK_BYTES // 2)))
        bits = array.array("H", f32.tobytes())
        return bits[1::2].tobytes()  # little-endian: the high half of each f32
    if dtype == "f16":
        count = BLOCK_BYTES // 2
        return struct.pack(f"<{count}e", *(rng.gauss(0, 0.02) for _ in range(count)))
    fail(f"unknown weight dtype '{dtype}'")


def expand(skeleton, artifact):
    with open(os.path.join(skeleton, "head.bin"), "rb") as f:
        head = f.read()
    with open(os.path.join(skeleton, "tail.bin"), "rb") as f:
        tail = f.read()
    meta_offset, meta_size, total = read_header(head)
    weights = weight_tables(json.loads(tail[:meta_size]))
    rng = random.Random(1)
    blocks = {}
    written = 0
    with open(artifact + ".tmp", "wb") as f:
        f.truncate(total)
        f.write(head)
        for w in weights:
            block = blocks.get(w["dtype"]) or blocks.setdefault(w["dtype"], random_block(w["dtype"], rng))
            f.seek(w["offset"])
            left = w["size"]
            while left:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n
            written += w["size"]
        f.seek(meta_offset)
        f.write(tail)
    os.replace(artifact + ".tmp", artifact)
    print(f"{artifact}: {total} bytes, {written} of them random weights")


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("split", "expand"):
        fail("usage: artifact-skeleton.py split ARTIFACT DIR | expand DIR ARTIFACT")
    (split if sys.argv[1] == "split" else expand)(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
