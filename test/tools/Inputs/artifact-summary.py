#!/usr/bin/env python3
"""Prints what the GPU artifact tests check, one fact per line: the target,
the code object sections (format, ELF machine), and every dispatch's kernel,
scalars and launch; for a tensor-parallel artifact, its ranks and their
weight tables (a view, `view_of`, with the rows of its base each rank's
starts at), and the collective steps between the dispatches. Reads the format of docs/artifact-format.md directly, so
it is an independent check of the writer."""
import json
import struct
import sys

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"LLAMACAF", "bad magic"
meta_offset, meta_size = struct.unpack_from("<QQ", data, 16)
meta = json.loads(data[meta_offset:meta_offset + meta_size])
print("target", meta["target"]["name"], meta["target"]["chip"],
      "cpu_features" in meta["target"], "bf16_dot=%s" % meta["target"].get("bf16_dot", False))
for name in ("kernels", "kernels_ptx"):
    section = meta.get(name)
    if not section:
        print(name, "absent")
        continue
    blob = data[section["offset"]:section["offset"] + section["size"]]
    if blob[:4] == b"\x7fELF":
        machine = struct.unpack_from("<H", blob, 18)[0]
        print(name, section["format"], "elf machine", machine)
    else:
        text = blob.decode()
        entries = sorted(set(line.split()[2].rstrip("(") for line in text.splitlines()
                             if line.startswith(".visible .entry")))
        print(name, section["format"], "entries", len(entries))
tp = meta.get("tensor_parallel")
if tp:
    tables = [meta["weights"]] + [t["weights"] for t in tp["rank_weights"]]
    print("tensor_parallel ranks", tp["ranks"], "kv_heads", meta["kv_cache"]["kv_heads"])
    for i, w in enumerate(meta["weights"]):
        offsets = [table[i]["offset"] for table in tables]
        how = "replicated" if len(set(offsets)) == 1 else "split"
        # A view (view_of: a tied classifier's rows) is rows of a weight of
        # its own table: which rows, rank by rank.
        bases = {table[i].get("view_of") for table in tables}
        if bases != {None}:
            rows = []
            for table in tables:
                base = next(b for b in table if b["name"] == table[i].get("view_of"))
                row = base["size"] // base["shape"][0]
                start = table[i]["offset"] - base["offset"]
                assert start % row == 0 and start + table[i]["size"] <= base["size"], table[i]
                rows.append(str(start // row))
            how += ", view of %s at rows %s" % (",".join(sorted(bases, key=str)), " ".join(rows))
        print("weight", w["name"], w["shape"], how)
for ep_name in sorted(meta["entry_points"]):
    ep = meta["entry_points"][ep_name]
    shapes = {b["id"]: b["shape"] for b in ep["buffers"]}
    for section in ("prologue", "layer_body", "epilogue"):
        for d in ep["schedule"][section]:
            if "collective" in d:
                ids = [b["id"] for b in d["bindings"]]
                into = ""
                if len(ids) > 1:  # all_gather_columns: the part, then the whole
                    into = " into=%s%s" % (shapes[ids[1]],
                                           " (logits)" if ids[1] == ep["logits"] else "")
                print(ep_name, section, d["collective"], "buffer=%s%s" % (shapes[ids[0]], into))
                continue
            launch = d.get("launch")
            last = d["bindings"][-1]
            print(ep_name, section, d["kernel"], ",".join(d.get("scalars", [])) or "-",
                  "range" if "range" in d else "",
                  "grid=%s block=%s" % (launch["grid"], launch["block"]) if launch else "no-launch",
                  "last-binding=%s" % (shapes[last["id"]] if last["kind"] == "buffer" else last["kind"]))
