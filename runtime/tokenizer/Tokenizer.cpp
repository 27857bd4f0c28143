//===- Tokenizer.cpp - sentencepiece tokenizer for the runtime ------------===//

#include "runtime/tokenizer/Tokenizer.h"

#include "runtime/tokenizer/SentencePieceModel.h"

#include "absl/strings/str_cat.h"

#include <fstream>
#include <sstream>

namespace llamac {

Tokenizer::Tokenizer() = default;

Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::load(std::string_view path) {
  std::ifstream file{std::string(path), std::ios::binary};
  if (!file)
    return absl::NotFoundError(
        absl::StrCat(std::string(path), ": cannot open tokenizer"));
  std::ostringstream contents;
  contents << file.rdbuf();
  auto tokenizer = loadFromSerialized(contents.str());
  if (!tokenizer.ok())
    return absl::Status(
        tokenizer.status().code(),
        absl::StrCat(std::string(path), ": ", tokenizer.status().message()));
  return tokenizer;
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::loadFromSerialized(std::string_view bytes) {
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  std::string error;
  tokenizer->model = SentencePieceModel::fromSerialized(bytes, error);
  if (!tokenizer->model)
    return absl::InvalidArgumentError(
        absl::StrCat("not a sentencepiece model: ", error));
  if (tokenizer->model->pieceCount() <= 0)
    return absl::InvalidArgumentError("sentencepiece model has no pieces");
  // Every prompt starts with BOS; a model without one (bos_id -1) would
  // make encode() return an id outside the vocabulary.
  int bos = tokenizer->model->bosId();
  if (bos < 0 || bos >= tokenizer->model->pieceCount())
    return absl::InvalidArgumentError(absl::StrCat(
        "sentencepiece model has no BOS piece (bos_id ", bos, ")"));
  tokenizer->serializedProto = std::string(bytes);
  return tokenizer;
}

std::vector<int> Tokenizer::encode(std::string_view text, bool addBos) const {
  std::vector<int> ids;
  if (addBos)
    ids.push_back(bosId());
  std::vector<int> pieces;
  // Encoding a loaded model only fails on internal errors; an empty result
  // is the honest answer then.
  if (model->encode(text, pieces))
    ids.insert(ids.end(), pieces.begin(), pieces.end());
  return ids;
}

int Tokenizer::vocabSize() const { return model->pieceCount(); }
int Tokenizer::bosId() const { return model->bosId(); }
int Tokenizer::eosId() const { return model->eosId(); }

/// Parses a byte-fallback piece "<0xNN>".
static int parseBytePiece(const std::string &piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>')
    return -1;
  int value = 0;
  for (char c : piece.substr(3, 2)) {
    int digit = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                         : -1;
    if (digit < 0)
      return -1;
    value = value * 16 + digit;
  }
  return value;
}

std::string Tokenizer::pieceBytes(int id) const {
  if (id < 0 || id >= vocabSize() || model->isControl(id))
    return "";
  if (model->isUnknown(id))
    return " \xE2\x81\x87 "; // sentencepiece's surface for <unk>: " ⁇ ".
  const std::string &piece = model->piece(id);
  if (model->isByte(id)) {
    int value = parseBytePiece(piece);
    return value < 0 ? "" : std::string(1, static_cast<char>(value));
  }
  // U+2581 "▁" marks a space in sentencepiece pieces.
  static const std::string kSpaceMark = "\xE2\x96\x81";
  std::string text;
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      text += ' ';
      i += kSpaceMark.size();
    } else {
      text += piece[i++];
    }
  }
  return text;
}

std::string Tokenizer::decode(absl::Span<const int> ids) const {
  StreamingDecoder decoder(*this);
  std::string text;
  for (int id : ids)
    text += decoder.next(id);
  return text + decoder.flush();
}

StreamingDecoder::StreamingDecoder(const Tokenizer &tokenizer)
    : tokenizer(tokenizer) {}

/// Length of the UTF-8 character that `lead` starts, or 0 if `lead` cannot
/// start one (a continuation byte or an invalid lead).
static size_t utf8Length(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

static bool isContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

std::string StreamingDecoder::next(int id) {
  if (id == tokenizer.bosId()) {
    atStart = true;
    return "";
  }
  std::string bytes = tokenizer.pieceBytes(id);
  if (bytes.empty())
    return "";
  if (atStart && bytes[0] == ' ')
    bytes.erase(0, 1);
  atStart = false;

  // Emit every complete character; keep a trailing incomplete one.
  std::string input = pending + bytes;
  pending.clear();
  std::string ready;
  size_t i = 0;
  while (i < input.size()) {
    size_t length = utf8Length(static_cast<unsigned char>(input[i]));
    if (length <= 1) { // ASCII, or a stray byte passed through as is.
      ready += input[i++];
      continue;
    }
    size_t have = 1;
    while (have < length && i + have < input.size() &&
           isContinuation(static_cast<unsigned char>(input[i + have])))
      ++have;
    if (have == length) {
      ready.append(input, i, length);
      i += length;
    } else if (i + have == input.size()) {
      pending = input.substr(i); // May still be completed by later tokens.
      break;
    } else {
      // Broken sequence: pass its bytes through, resume after them.
      ready.append(input, i, have);
      i += have;
    }
  }
  return ready;
}

std::string StreamingDecoder::flush() {
  std::string rest = std::move(pending);
  pending.clear();
  atStart = true;
  return rest;
}

} // namespace llamac
