#!/usr/bin/env python3
"""Writes a copy of a sentencepiece tokenizer.model with one piece renamed.

usage: rename-tokenizer-piece.py <in.model> <out.model> <piece id>

The copy has the same vocabulary size and special tokens, so a model compiled
with it looks compatible until its pieces are compared: token <piece id>
means other text. The piece keeps its length (its last letter changes to one
that makes it unique), so every length prefix in the protobuf stays valid.
"""
import sys


def varint(data, i):
    value, shift = 0, 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def pieces(data):
    """(offset of the piece's text, its length) of each ModelProto.pieces."""
    found, i = [], 0
    while i < len(data):
        key, i = varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(data, i)
        elif wire == 5:
            i += 4
        elif wire == 1:
            i += 8
        elif wire == 2:
            length, i = varint(data, i)
            if field == 1:
                # SentencePiece: field 1 is the piece's text.
                key, j = varint(data, i)
                assert key == 0x0A, "a piece starts with its text"
                text_length, j = varint(data, j)
                found.append((j, text_length))
            i += length
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return found


def main():
    source, target, index = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = bytearray(open(source, "rb").read())
    table = pieces(data)
    texts = {bytes(data[o:o + n]) for o, n in table}
    offset, length = table[index]
    for letter in b"qzxjkvw":
        renamed = bytes(data[offset:offset + length - 1]) + bytes([letter])
        if renamed not in texts:
            data[offset + length - 1] = letter
            open(target, "wb").write(bytes(data))
            return
    raise SystemExit("no unique renaming of piece %d" % index)


main()
