#!/usr/bin/env python3
"""Turns a Llama checkpoint directory (f32 safetensors) into a Mixtral one
whose experts are all copies of the Llama's MLP, with a seeded random
router:

  make-mixtral.py SRC DST EXPERTS PER_TOKEN [--omit TENSOR] [--extra-expert]
                  [--nan-router] [--without KEY]...

Whatever the router picks, the picked experts' weights sum to 1, so the
Mixtral computes what the Llama does: its greedy tokens are the Llama's
(llama2.c's, for stories260K). --omit leaves TENSOR out of the file;
--extra-expert adds an expert numbered EXPERTS to layer 0 (more experts in
the file than config.json names); --nan-router makes layer 0's router NaN;
--without drops KEY from config.json. Other files are copied unchanged.
"""
import json
import os
import shutil
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], data[begin:end])
    # File order: by offset.
    order = sorted(header, key=lambda n: header[n]["data_offsets"][0])
    return order, tensors


def write_safetensors(path, named):
    header, offset, blobs = {}, 0, []
    for name, (dtype, shape, raw) in named:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def router(rows, cols, seed):
    # A small LCG: deterministic without numpy, spread enough that tokens
    # pick different experts.
    state, values = seed, []
    for _ in range(rows * cols):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        values.append(((state >> 33) / float(1 << 31) - 0.5) * 2.0)
    return struct.pack("<%df" % len(values), *values)


def main():
    args = sys.argv[1:]
    omit = None
    extra = False
    if "--omit" in args:
        i = args.index("--omit")
        omit = args[i + 1]
        del args[i:i + 2]
    if "--extra-expert" in args:
        args.remove("--extra-expert")
        extra = True
    nan_router = "--nan-router" in args
    if nan_router:
        args.remove("--nan-router")
    without = []
    while "--without" in args:
        i = args.index("--without")
        without.append(args[i + 1])
        del args[i:i + 2]
    src, dst, experts, per_token = args[0], args[1], int(args[2]), int(args[3])
    shutil.copytree(src, dst, dirs_exist_ok=True)
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    config["model_type"] = "mixtral"
    config["architectures"] = ["MixtralForCausalLM"]
    config["num_local_experts"] = experts
    config["num_experts_per_tok"] = per_token
    config["sliding_window"] = None
    for key in without:
        config.pop(key, None)
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    order, tensors = read_safetensors(os.path.join(src, "model.safetensors"))
    dim = config["hidden_size"]
    named = []
    for name in order:
        parts = name.split(".")
        if len(parts) > 4 and parts[3] == "mlp":
            if parts[4] != "gate_proj":
                continue
            prefix = ".".join(parts[:3]) + ".block_sparse_moe."
            layer = int(parts[2])
            gate = router(experts, dim, 7 + layer)
            if nan_router and layer == 0:
                gate = struct.pack("<f", float("nan")) * (experts * dim)
            named.append((prefix + "gate.weight", ("F32", [experts, dim], gate)))
            mlp = ".".join(parts[:4]) + "."
            count = experts + (1 if extra and layer == 0 else 0)
            for e in range(count):
                for w, proj in (("w1", "gate_proj"), ("w2", "down_proj"), ("w3", "up_proj")):
                    named.append((prefix + "experts.%d.%s.weight" % (e, w),
                                  tensors[mlp + proj + ".weight"]))
            continue
        named.append((name, tensors[name]))
    named = [(n, t) for n, t in named if n != omit]
    write_safetensors(os.path.join(dst, "model.safetensors"), named)


if __name__ == "__main__":
    main()
