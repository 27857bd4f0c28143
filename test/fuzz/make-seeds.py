#!/usr/bin/env python3
"""Writes the seed inputs of test/fuzz/corpus/ (run from anywhere; idempotent).

Seeds are small on purpose: libFuzzer mutates them millions of times. They
come from the bundled models (models/) or are built here to their formats
(docs/fuzzing.md). Inputs that once crashed a target are added beside them by
hand, named crash-<what>, and are never regenerated.
"""
import base64
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "test", "fuzz", "corpus")
MODELS = os.path.join(ROOT, "models")


def added_piece(text, piece_type):
    """A ModelProto `pieces` entry on the wire (docs/tokenizers.md, "Added
    tokens"): piece text, score 0, type (3 control, 4 user-defined)."""
    def varint(n):
        out = b""
        while n >= 0x80:
            out += bytes([(n & 0x7f) | 0x80])
            n >>= 7
        return out + bytes([n])
    message = b"\x0a" + varint(len(text)) + text + b"\x15\0\0\0\0" + b"\x18" + varint(piece_type)
    return b"\x0a" + varint(len(message)) + message


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, bytes)] in data order."""
    header, offset, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def llama2c(dim, hidden, layers, heads, kv_heads, vocab, seq_len, shared=True):
    head = dim // heads
    sizes = [vocab * dim, layers * dim, layers * dim * dim,
             layers * kv_heads * head * dim, layers * kv_heads * head * dim,
             layers * dim * dim, layers * dim, layers * hidden * dim,
             layers * dim * hidden, layers * hidden * dim, dim,
             seq_len * head // 2, seq_len * head // 2]
    if not shared:
        sizes.append(vocab * dim)
    header = struct.pack("<7i", dim, hidden, layers, heads, kv_heads,
                         vocab if shared else -vocab, seq_len)
    return header + f32(*[0.25 * (i % 7) for i in range(sum(sizes))])


# A small byte-level BPE vocabulary: every single byte (rank = byte), then
# a few merges, and two special tokens after them.
BPE_MERGES = [b"he", b"ll", b"llo", b"hello", b" w", b"or", b"ld", b" world"]
BPE_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
BPE_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>"]


def bpe_ranks():
    return [bytes([b]) for b in range(256)] + BPE_MERGES


def tiktoken_lines():
    return "".join("%s %d\n" % (base64.b64encode(t).decode(), r)
                   for r, t in enumerate(bpe_ranks()))


def gpt2_byte_to_unicode():
    printable = [b for b in range(256)
                 if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    table, extra = {}, 256
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(extra)
            extra += 1
    return table


def tokenizer_json():
    table = gpt2_byte_to_unicode()
    vocab = {"".join(table[b] for b in t): r for r, t in enumerate(bpe_ranks())}
    first_special = len(bpe_ranks())
    return json.dumps({
        "model": {"type": "BPE", "vocab": vocab, "merges": []},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": BPE_PATTERN}},
            {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}]},
        "added_tokens": [{"id": first_special + i, "content": name}
                         for i, name in enumerate(BPE_SPECIALS)],
        "post_processor": {"type": "TemplateProcessing", "single": [
            {"SpecialToken": {"id": BPE_SPECIALS[0]}}]},
    }, ensure_ascii=False)


def serialized_bpe():
    first_special = len(bpe_ranks())
    head = "llamac-bpe 1\npattern %s\nbos %d\neos %d\n" % (
        base64.b64encode(BPE_PATTERN.encode()).decode(), first_special,
        first_special + 1)
    for i, name in enumerate(BPE_SPECIALS):
        head += "special %d %s\n" % (first_special + i,
                                      base64.b64encode(name.encode()).decode())
    return head + "ranks\n" + tiktoken_lines()


def main():
    write("safetensors", "two-tensors", safetensors([
        ("model.norm.weight", "F32", [4], f32(1, 2, 3, 4)),
        ("lm_head.weight", "BF16", [2, 2], bytes(8))]))
    write("safetensors", "metadata-and-empty", safetensors([
        ("empty", "F16", [0, 3], b""),
        ("w", "F16", [3], bytes(6))], metadata={"format": "pt"}))
    write("safetensors", "no-tensors", safetensors([]))

    hf = os.path.join(MODELS, "stories260K-hf")
    with open(os.path.join(hf, "config.json"), "rb") as f:
        config = f.read()
    with open(os.path.join(hf, "generation_config.json"), "rb") as f:
        generation = f.read()
    write("hf_config", "stories260K-config", config)
    write("hf_config", "stories260K-config-and-generation",
          config + b"\0" + generation)
    llama3 = json.loads(config)
    llama3.update({"rope_theta": 500000.0, "head_dim": 8, "tie_word_embeddings": True,
                   "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
                                    "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                    "original_max_position_embeddings": 256},
                   "eos_token_id": [2, 1]})
    write("hf_config", "llama3-rope-scaling", json.dumps(llama3, indent=1))
    linear = json.loads(config)
    linear.update({"rope_scaling": {"type": "linear", "factor": 4.0}})
    del linear["max_position_embeddings"]
    write("hf_config", "linear-rope-scaling", json.dumps(linear, indent=1))
    yarn = json.loads(config)
    yarn.update({"rope_scaling": {"type": "yarn", "factor": 16.0,
                                  "original_max_position_embeddings": 4096,
                                  "beta_fast": 32, "beta_slow": 1, "mscale": 1.0,
                                  "mscale_all_dim": 0.5, "truncate": False,
                                  "finetuned": True}})
    write("hf_config", "yarn-rope-scaling", json.dumps(yarn, indent=1))

    write("llama2c", "tiny-shared", llama2c(4, 6, 1, 2, 1, 3, 2))
    write("llama2c", "tiny-unshared", llama2c(4, 4, 2, 2, 2, 2, 2, shared=False))
    with open(os.path.join(MODELS, "stories260K", "stories260K.bin"), "rb") as f:
        write("llama2c", "stories260K-header-only", f.read(28))

    with open(os.path.join(MODELS, "stories260K", "tokenizer.model"), "rb") as f:
        stories_tokenizer = f.read()
    write("tokenizer_model", "stories260K-tokenizer.model", stories_tokenizer)
    write("tokenizer_model", "stories260K-added-pieces",
          stories_tokenizer + added_piece(b"<|im_start|>", 3) + added_piece(b"<tag>", 4))
    write("tokenizer_model", "bpe-tiktoken", tiktoken_lines())
    write("tokenizer_model", "bpe-tokenizer.json", tokenizer_json())
    write("tokenizer_model", "bpe-serialized", serialized_bpe())

    write("prompt", "once-upon-a-time", "Once upon a time")
    write("prompt", "spaces-and-lines", "  two  spaces\nand a\ttab ")
    write("prompt", "unicode", "caf\u00e9 \u20ac \U0001F600 \u4e2d\u6587")
    write("prompt", "invalid-utf8", b"\xff\xfe \xc3 \xe2\x82 \xed\xa0\x80")

    # Llama 3's byte-level BPE; special tokens are text unless allowed.
    write("prompt_bpe", "once-upon-a-time", "Once upon a time")
    write("prompt_bpe", "chat-header",
          "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>")
    write("prompt_bpe", "numbers-and-spaces", "  1234567 apples,\t\r\n  3.14   ")
    write("prompt_bpe", "unicode", "caf\u00e9 \u20ac \U0001F600 \u4e2d\u6587 \u0085x")
    write("prompt_bpe", "invalid-utf8", b"x\xffy \xc3 \xe2\x82 \xed\xa0\x80")

    # The artifact target's inputs: a 64-byte mask XORed onto the header,
    # then metadata JSON (its seed from a compiled artifact is generated by
    # scripts/fuzz.sh; these reach the reader's early checks).
    write("artifact", "empty-object", bytes(64) + b"{}")
    mask = bytearray(64)
    mask[8] = 1  # format version 2 -> 3
    write("artifact", "newer-version", bytes(mask) + b"{}")
    write("artifact", "not-json", bytes(64) + b"{\"model\": [")


if __name__ == "__main__":
    main()
