#!/usr/bin/env python3
"""Makes hostile copies of a checkpoint's files for tests, reading the
formats directly (the safetensors header, the llama2.c header):

  edit-checkpoint.py set-element FILE.safetensors TENSOR INDEX VALUE
      overwrite element INDEX (flat) of TENSOR with VALUE (nan, inf, -inf
      or a number), in the tensor's dtype
  edit-checkpoint.py set-bin-element FILE.bin INDEX VALUE
      overwrite f32 element INDEX of a llama2.c file's data (after the
      28-byte header)
  edit-checkpoint.py header-length FILE.safetensors DELTA
      add DELTA to the header length (the JSON stays as it is)
  edit-checkpoint.py retype FILE.safetensors TENSOR DTYPE
      store TENSOR as DTYPE (F32, F16 or BF16; bf16 truncates), rewriting
      the file's header and data offsets
  edit-checkpoint.py pad-rows FILE.safetensors TENSOR COUNT ROW SCALE
      append COUNT rows to the 2-D TENSOR, each row ROW times SCALE (a
      vocabulary padded beyond the tokenizer, with rows that would win)
  edit-checkpoint.py config FILE.json KEY VALUE
      set KEY of a JSON object file to VALUE, parsed as JSON (1e300 stays a
      float, 9223372036854775807 an integer)
"""
import json
import struct
import sys


def encode(value, dtype):
    x = float(value)
    if dtype == "F32":
        return struct.pack("<f", x)
    if dtype == "F16":
        return struct.pack("<e", x)
    if dtype == "BF16":
        return struct.pack("<f", x)[2:]
    raise SystemExit("unsupported dtype " + dtype)


def decode(raw, dtype):
    if dtype == "F32":
        return list(struct.unpack("<%df" % (len(raw) // 4), raw))
    if dtype == "F16":
        return list(struct.unpack("<%de" % (len(raw) // 2), raw))
    if dtype == "BF16":
        return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
    raise SystemExit("unsupported dtype " + dtype)


def rewrite(path, tensor, change):
    """Rewrites the safetensors file at `path` with `change(entry, raw)`
    (returning the new bytes, after updating the entry) applied to TENSOR."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = sorted((k for k in header if k != "__metadata__"),
                     key=lambda k: header[k]["data_offsets"][0])
    out = bytearray()
    for name in tensors:
        entry = header[name]
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if name == tensor:
            raw = change(entry, raw)
        entry["data_offsets"] = [len(out), len(out) + len(raw)]
        out += raw
    encoded = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        f.write(out)


def retype(path, tensor, dtype):
    def change(entry, raw):
        values = decode(raw, entry["dtype"])
        entry["dtype"] = dtype
        return b"".join(encode(v, dtype) for v in values)
    rewrite(path, tensor, change)


def pad_rows(path, tensor, count, row, scale):
    def change(entry, raw):
        rows, cols = entry["shape"]
        size = len(raw) // (rows * cols)
        source = decode(raw[row * cols * size:(row + 1) * cols * size], entry["dtype"])
        padding = b"".join(encode(v * scale, entry["dtype"]) for v in source)
        entry["shape"] = [rows + count, cols]
        return raw + padding * count
    rewrite(path, tensor, change)


def main(args):
    command = args[0]
    if command == "set-element":
        path, tensor, index, value = args[1], args[2], int(args[3]), args[4]
        with open(path, "r+b") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            entry = json.loads(f.read(n))[tensor]
            size = {"F32": 4, "F16": 2, "BF16": 2}[entry["dtype"]]
            f.seek(8 + n + entry["data_offsets"][0] + index * size)
            f.write(encode(value, entry["dtype"]))
    elif command == "set-bin-element":
        path, index, value = args[1], int(args[2]), args[3]
        with open(path, "r+b") as f:
            f.seek(28 + 4 * index)
            f.write(encode(value, "F32"))
    elif command == "header-length":
        path, delta = args[1], int(args[2])
        with open(path, "r+b") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            f.seek(0)
            f.write(struct.pack("<Q", n + delta))
    elif command == "retype":
        retype(args[1], args[2], args[3])
    elif command == "pad-rows":
        pad_rows(args[1], args[2], int(args[3]), int(args[4]), float(args[5]))
    elif command == "config":
        path, key, value = args[1], args[2], args[3]
        with open(path) as f:
            config = json.load(f)
        config[key] = json.loads(value)
        with open(path, "w") as f:
            json.dump(config, f)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
