//===- SentencePieceProto.cpp - a ModelProto on the wire ------------------===//

#include "runtime/tokenizer/SentencePieceProto.h"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace llamac::sentencepiece_proto {

namespace {

// ModelProto field 1 (`pieces`); SentencePiece fields 1 (`piece`), 2
// (`score`, a float) and 3 (`type`). Wire types: 0 varint, 1 fixed64,
// 2 length-delimited, 5 fixed32.
constexpr uint32_t kPiecesField = 1;
constexpr uint32_t kPieceTextField = 1;
constexpr uint32_t kPieceScoreField = 2;
constexpr uint32_t kPieceTypeField = 3;
// llamac's own ModelProto field (the extension range is 200 and up): the
// number of pieces before appendPieces appended its first.
constexpr uint32_t kFirstAppendedField = 91001;
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

void putVarint(std::string &out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void putTag(std::string &out, uint32_t field, uint32_t wireType) {
  putVarint(out, (static_cast<uint64_t>(field) << 3) | wireType);
}

/// Reads the wire format one field at a time, failing on anything out of
/// bounds.
class WireReader {
public:
  explicit WireReader(std::string_view bytes) : bytes(bytes) {}

  bool done() const { return at == bytes.size(); }
  size_t offset() const { return at; }

  std::optional<uint64_t> varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
      uint8_t byte = static_cast<uint8_t>(bytes[at++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return value;
    }
    return std::nullopt;
  }

  /// The next field: its number, wire type and, for a length-delimited
  /// one, its bytes; a varint's value in `value`. False at malformed input.
  bool next(uint32_t &field, uint32_t &wireType, std::string_view &payload, uint64_t &value) {
    std::optional<uint64_t> tag = varint();
    if (!tag)
      return false;
    field = static_cast<uint32_t>(*tag >> 3);
    wireType = static_cast<uint32_t>(*tag & 7);
    switch (wireType) {
    case kVarint: {
      std::optional<uint64_t> v = varint();
      if (!v)
        return false;
      value = *v;
      return true;
    }
    case kFixed64:
      return skip(8);
    case kFixed32:
      return skip(4);
    case kLengthDelimited: {
      std::optional<uint64_t> length = varint();
      if (!length || *length > bytes.size() - at)
        return false;
      payload = bytes.substr(at, *length);
      at += *length;
      return true;
    }
    default: // Groups (3, 4) are not in sentencepiece's proto.
      return false;
    }
  }

private:
  bool skip(size_t count) {
    if (count > bytes.size() - at)
      return false;
    at += count;
    return true;
  }

  std::string_view bytes;
  size_t at = 0;
};

} // namespace

std::string appendPieces(std::string_view proto, const std::vector<NewPiece> &pieces) {
  std::string out(proto);
  // Appending again keeps the first appended id (the last mark wins).
  ModelPieces before = readPieces(proto);
  putTag(out, kFirstAppendedField, kVarint);
  putVarint(out, before.firstAppended);
  for (const NewPiece &piece : pieces) {
    std::string message;
    putTag(message, kPieceTextField, kLengthDelimited);
    putVarint(message, piece.text.size());
    message += piece.text;
    // Score 0, as sentencepiece's trainer gives user-defined and control
    // pieces: no merge ever produces them.
    putTag(message, kPieceScoreField, kFixed32);
    message.append(4, '\0');
    putTag(message, kPieceTypeField, kVarint);
    putVarint(message, static_cast<uint64_t>(piece.type));
    putTag(out, kPiecesField, kLengthDelimited);
    putVarint(out, message.size());
    out += message;
  }
  return out;
}

ModelPieces readPieces(std::string_view proto) {
  ModelPieces model;
  std::optional<uint64_t> firstAppended;
  WireReader reader(proto);
  while (!reader.done()) {
    uint32_t field = 0, wireType = 0;
    std::string_view payload;
    uint64_t value = 0;
    if (!reader.next(field, wireType, payload, value))
      return {};
    if (field == kFirstAppendedField && wireType == kVarint)
      firstAppended = value;
    if (field != kPiecesField || wireType != kLengthDelimited)
      continue;
    Piece piece; // Type NORMAL, the proto's default.
    WireReader fields(payload);
    while (!fields.done()) {
      std::string_view bytes;
      uint64_t number = 0;
      if (!fields.next(field, wireType, bytes, number))
        return {};
      if (field == kPieceTextField && wireType == kLengthDelimited)
        piece.text = std::string(bytes);
      else if (field == kPieceTypeField && wireType == kVarint)
        piece.type = static_cast<PieceType>(number);
    }
    model.pieces.push_back(std::move(piece));
  }
  model.firstAppended = std::min<uint64_t>(firstAppended.value_or(model.pieces.size()),
                                           model.pieces.size());
  return model;
}

std::string withoutAppendMark(std::string_view proto) {
  std::string out;
  WireReader reader(proto);
  while (!reader.done()) {
    size_t start = reader.offset();
    uint32_t field = 0, wireType = 0;
    std::string_view payload;
    uint64_t value = 0;
    if (!reader.next(field, wireType, payload, value))
      return std::string(proto); // Not well-formed: sentencepiece will say so.
    if (field != kFirstAppendedField)
      out.append(proto.substr(start, reader.offset() - start));
  }
  return out;
}

} // namespace llamac::sentencepiece_proto
