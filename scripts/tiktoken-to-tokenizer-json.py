#!/usr/bin/env python3
"""Makes a Hugging Face tokenizer.json from Meta's Llama 3 tiktoken file.

    scripts/tiktoken-to-tokenizer-json.py tokenizer.model tokenizer.json

The output is a byte-level BPE tokenizer.json of the shape Hugging Face
ships for Llama 3: the vocab (token bytes written through GPT-2's
byte-to-unicode table, id = tiktoken rank), merges (for each token, every
split into two shorter tokens, ordered by the merged token's rank), the
Split(regex) + ByteLevel pre-tokenizer, the 256 special tokens as added
tokens (Hugging Face's naming, as runtime/tokenizer/Llama3Specials.cpp) and
a post-processor that puts <|begin_of_text|> first. The tests check that it
encodes every reference text to the same ids as the tiktoken file.
Standard library only.
"""

import base64
import json
import sys

PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
           r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

NAMED_SPECIALS = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
    "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
    "<|eom_id|>", "<|eot_id|>", "<|python_tag|>", "<|reserved_special_token_3|>",
]


def bytes_to_unicode():
    """GPT-2's table: printable Latin-1 bytes stand for themselves, the
    others for U+0100 onwards in byte order."""
    printable = (list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) +
                 list(range(0xAE, 0x100)))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def read_ranks(path):
    ranks = {}
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
    return ranks


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tiktoken-to-tokenizer-json.py tokenizer.model out.json")
    ranks = read_ranks(sys.argv[1])
    table = bytes_to_unicode()
    text = lambda b: "".join(table[x] for x in b)

    merges = []
    for token, rank in ranks.items():
        for cut in range(1, len(token)):
            left, right = token[:cut], token[cut:]
            if left in ranks and right in ranks and max(ranks[left], ranks[right]) < rank:
                merges.append((rank, ranks[left], ranks[right], left, right))
    merges.sort()

    specials = list(NAMED_SPECIALS)
    specials += ["<|reserved_special_token_%d|>" % n
                 for n in range(4, 4 + 256 - len(NAMED_SPECIALS))]
    first_special = len(ranks)
    added = [{"id": first_special + i, "content": name, "single_word": False,
              "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, name in enumerate(specials)]

    bos = "<|begin_of_text|>"
    out = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PATTERN},
             "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False,
             "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True,
             "trim_offsets": False, "use_regex": True},
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": bos, "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": bos, "type_id": 0}},
                      {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": bos, "type_id": 1}},
                      {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {bos: {"id": bos, "ids": [first_special],
                                      "tokens": [bos]}}}]},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                    "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": True,
                  "vocab": {text(t): r for t, r in sorted(ranks.items(), key=lambda e: e[1])},
                  "merges": [[text(m[3]), text(m[4])] for m in merges]},
    }
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
