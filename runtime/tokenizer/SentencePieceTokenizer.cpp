//===- SentencePieceTokenizer.cpp - sentencepiece behind Tokenizer --------===//

#include "runtime/tokenizer/SentencePieceTokenizer.h"

#include "runtime/tokenizer/SentencePieceModel.h"

#include "absl/strings/str_cat.h"

namespace llamac {

SentencePieceTokenizer::SentencePieceTokenizer() = default;

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>>
SentencePieceTokenizer::fromSerialized(std::string_view bytes) {
  std::unique_ptr<SentencePieceTokenizer> tokenizer(
      new SentencePieceTokenizer());
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
  for (int id = 0; id < tokenizer->model->pieceCount(); ++id)
    if (tokenizer->model->isControl(id) && !tokenizer->model->piece(id).empty())
      tokenizer->controlPieces.emplace_back(tokenizer->model->piece(id), id);
    else if (tokenizer->model->isAppended(id) && tokenizer->model->isUserDefined(id) &&
             !tokenizer->model->piece(id).empty())
      tokenizer->addedWords.emplace_back(tokenizer->model->piece(id), id);
  tokenizer->serializedProto = std::string(bytes);
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

namespace {

/// A piece to cut out of a text, with where it next occurs.
struct Cut {
  std::string_view text;
  int id;
  size_t next;
};

} // namespace

/// Calls `stretch(text, first)` for each stretch of `text` between the
/// pieces cut out of it, and `cut(id)` for each of those pieces: added words
/// always, control pieces (`<s>`, `</s>`) with allowSpecial. The earliest
/// match wins, the longest among those. Each piece's next occurrence is
/// searched for again only once the cursor has passed it, so a text costs
/// O(length x pieces), not a search of the rest per cut.
template <typename Stretch, typename CutPiece>
static void cutPieces(std::string_view text, const std::vector<std::pair<std::string, int>> &always,
                      const std::vector<std::pair<std::string, int>> *allowed, Stretch stretch,
                      CutPiece cut) {
  std::vector<Cut> cuts;
  auto add = [&](const std::vector<std::pair<std::string, int>> &pieces) {
    for (const auto &[piece, id] : pieces)
      if (size_t at = text.find(piece); at != std::string_view::npos)
        cuts.push_back({piece, id, at});
  };
  add(always);
  if (allowed)
    add(*allowed);
  size_t cursor = 0;
  bool first = true;
  while (cursor < text.size()) {
    size_t at = std::string_view::npos, length = 0;
    int id = -1;
    for (Cut &candidate : cuts) {
      if (candidate.next != std::string_view::npos && candidate.next < cursor)
        candidate.next = text.find(candidate.text, cursor);
      if (candidate.next == std::string_view::npos)
        continue;
      if (candidate.next < at || (candidate.next == at && candidate.text.size() > length)) {
        at = candidate.next;
        length = candidate.text.size();
        id = candidate.id;
      }
    }
    if (id < 0) {
      stretch(text.substr(cursor), first);
      return;
    }
    if (at > cursor)
      stretch(text.substr(cursor, at - cursor), first);
    cut(id);
    first = false;
    cursor = at + length;
  }
}

/// sentencepiece's failure to encode a stretch of text (only internal
/// errors on a loaded model).
static absl::Status encodeFailure(const std::string &message) {
  return absl::InternalError(absl::StrCat("sentencepiece could not encode the text: ", message));
}

absl::StatusOr<std::vector<int>>
SentencePieceTokenizer::encode(std::string_view text, bool addBos, bool allowSpecial) const {
  std::vector<int> ids;
  if (addBos)
    ids.push_back(bosId());
  std::string error;
  auto encodeText = [&](std::string_view segment, bool) {
    std::vector<int> pieces;
    if (segment.empty() || !error.empty())
      return;
    if (model->encode(segment, pieces, error))
      ids.insert(ids.end(), pieces.begin(), pieces.end());
  };
  // The text between the pieces cut out is encoded stretch by stretch, each
  // with its own dummy prefix, as Hugging Face's legacy Llama tokenizer and
  // llama.cpp do (so Meta's Llama 2 chat prompt written out as text gives
  // the ids Meta's code gives).
  cutPieces(text, addedWords, allowSpecial ? &controlPieces : nullptr, encodeText,
            [&](int id) { ids.push_back(id); });
  if (!error.empty())
    return encodeFailure(error);
  return ids;
}

absl::StatusOr<std::vector<int>>
SentencePieceTokenizer::encodeContinuation(std::string_view text) const {
  // The first stretch goes on from the text before it; one after an added
  // word is a stretch of its own, as in encode() of the whole text.
  std::vector<int> ids;
  std::string error;
  cutPieces(
      text, addedWords, nullptr,
      [&](std::string_view stretch, bool first) {
        std::vector<int> pieces;
        if (!error.empty())
          return;
        if (first ? model->encodeContinuation(stretch, pieces, error)
                  : model->encode(stretch, pieces, error))
          ids.insert(ids.end(), pieces.begin(), pieces.end());
      },
      [&](int id) { ids.push_back(id); });
  if (!error.empty())
    return encodeFailure(error);
  return ids;
}

int SentencePieceTokenizer::vocabSize() const { return model->pieceCount(); }
int SentencePieceTokenizer::bosId() const { return model->bosId(); }
int SentencePieceTokenizer::eosId() const { return model->eosId(); }

bool SentencePieceTokenizer::isSpecial(int id) const {
  return id >= 0 && id < vocabSize() && model->isControl(id);
}

int SentencePieceTokenizer::specialId(std::string_view name) const {
  // Only chat templates ask, once per conversation: a scan is enough. An
  // added word counts: a ChatML marker added as a plain token
  // (transformers' `special: false`) is still the template's marker.
  for (int id = 0; id < vocabSize(); ++id)
    if ((model->isControl(id) || model->isAppended(id)) && model->piece(id) == name)
      return id;
  return -1;
}

bool SentencePieceTokenizer::isAddedToken(int id) const { return model->isAppended(id); }

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

std::string SentencePieceTokenizer::pieceBytes(int id) const {
  if (id < 0 || id >= vocabSize() || model->isControl(id))
    return "";
  if (model->isUnknown(id))
    return " \xE2\x81\x87 "; // sentencepiece's surface for <unk>: " ⁇ ".
  const std::string &piece = model->piece(id);
  if (model->isAppended(id))
    return piece; // An added word's text, verbatim, as transformers prints it.
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

} // namespace llamac
