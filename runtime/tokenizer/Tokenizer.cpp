//===- Tokenizer.cpp - loading either kind; streaming decode --------------===//

#include "runtime/tokenizer/Tokenizer.h"

#include "runtime/tokenizer/BpeTokenizer.h"
#include "runtime/tokenizer/HFTokenizerJson.h"
#include "runtime/tokenizer/SentencePieceTokenizer.h"
#include "runtime/tokenizer/TiktokenFile.h"

#include "absl/strings/str_cat.h"

#include <fstream>
#include <sstream>

namespace llamac {

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
  if (BpeTokenizer::isSerializedForm(bytes))
    return BpeTokenizer::fromSerialized(bytes);
  if (looksLikeJson(bytes)) {
    absl::StatusOr<BpeVocabulary> vocab = parseHFTokenizerJson(bytes);
    if (!vocab.ok())
      return vocab.status();
    return BpeTokenizer::create(std::move(*vocab));
  }
  if (looksLikeTiktoken(bytes)) {
    absl::StatusOr<BpeVocabulary> vocab = parseTiktoken(bytes);
    if (!vocab.ok())
      return vocab.status();
    return BpeTokenizer::create(std::move(*vocab));
  }
  return SentencePieceTokenizer::fromSerialized(bytes);
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::loadKind(std::string_view kind, std::string_view bytes) {
  if (kind == "sentencepiece")
    return SentencePieceTokenizer::fromSerialized(bytes);
  if (kind == "bpe")
    return BpeTokenizer::fromSerialized(bytes);
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported tokenizer kind '", std::string(kind), "'"));
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
  const bool dummyPrefix = tokenizer.dropsDummyPrefix();
  if (dummyPrefix && id == tokenizer.bosId()) {
    atStart = true;
    return "";
  }
  std::string bytes = tokenizer.pieceBytes(id);
  // After an added token the text restarts with a dummy prefix of its own.
  const bool restarts = dummyPrefix && tokenizer.isAddedToken(id);
  if (bytes.empty()) {
    atStart = atStart || restarts;
    return "";
  }
  // An added word's own leading space is its text, not a dummy prefix.
  if (dummyPrefix && atStart && bytes[0] == ' ' && !tokenizer.isAddedToken(id))
    bytes.erase(0, 1);
  atStart = restarts;

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
