//===- ProtoWriter.cpp - protocol buffer wire format, write only ----------===//

#include "compiler/synth/ProtoWriter.h"

#include "llvm/ADT/bit.h"

namespace llamac {

void ProtoWriter::writeVarint(uint64_t value) {
  // Seven bits per byte, least significant first; the high bit says "more".
  while (value >= 0x80) {
    buffer.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  buffer.push_back(static_cast<char>(value));
}

void ProtoWriter::writeKey(uint32_t field, WireType type) {
  writeVarint((static_cast<uint64_t>(field) << 3) | type);
}

void ProtoWriter::writeInt(uint32_t field, int64_t value) {
  writeKey(field, Varint);
  writeVarint(static_cast<uint64_t>(value));
}

void ProtoWriter::writeFloat(uint32_t field, float value) {
  writeKey(field, Fixed32);
  uint32_t bits = llvm::bit_cast<uint32_t>(value);
  for (int i = 0; i < 4; ++i)
    buffer.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

void ProtoWriter::writeBytes(uint32_t field, llvm::StringRef bytes) {
  writeKey(field, LengthDelimited);
  writeVarint(bytes.size());
  buffer.append(bytes.data(), bytes.size());
}

} // namespace llamac
