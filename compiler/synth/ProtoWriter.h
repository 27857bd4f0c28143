//===- ProtoWriter.h - protocol buffer wire format, write only --*- C++ -*-===//
//
// Just enough of the protobuf encoding to serialise a sentencepiece
// ModelProto without libprotobuf or the generated sentencepiece_model.pb.h
// (Debian's libsentencepiece-dev ships neither): every field is a key (field
// number << 3 | wire type) followed by a varint, a little-endian fixed32, or
// a varint length and that many bytes (strings and nested messages).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SYNTH_PROTOWRITER_H
#define LLAMAC_COMPILER_SYNTH_PROTOWRITER_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace llamac {

/// Appends fields of one message to a byte string.
class ProtoWriter {
public:
  /// An int32/int64/enum field. Negative values take ten bytes, as
  /// protobuf sign-extends int32 to 64 bits.
  void writeInt(uint32_t field, int64_t value);
  void writeBool(uint32_t field, bool value) { writeInt(field, value ? 1 : 0); }
  /// A `float` field (wire type 5, IEEE single, little-endian).
  void writeFloat(uint32_t field, float value);
  /// A `string` or `bytes` field.
  void writeBytes(uint32_t field, llvm::StringRef bytes);
  /// A nested message field.
  void writeMessage(uint32_t field, const ProtoWriter &message) {
    writeBytes(field, message.bytes());
  }

  const std::string &bytes() const { return buffer; }

private:
  enum WireType : uint32_t { Varint = 0, LengthDelimited = 2, Fixed32 = 5 };
  void writeKey(uint32_t field, WireType type);
  void writeVarint(uint64_t value);

  std::string buffer;
};

} // namespace llamac

#endif // LLAMAC_COMPILER_SYNTH_PROTOWRITER_H
