//===- SyntheticTokenizer.cpp - a sentencepiece model built from nothing --===//

#include "compiler/synth/SyntheticTokenizer.h"

#include "compiler/synth/Presets.h"
#include "compiler/synth/ProtoWriter.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <optional>

namespace llamac {
namespace {

/// U+2581, sentencepiece's stand-in for a space.
constexpr const char *kSpaceMark = "\xE2\x96\x81";

/// Made-up normal pieces, shortest first: "▁", each printable ASCII
/// character, then strings of lower-case letters with and without a leading
/// "▁", by length. Every piece longer than one character is a shorter piece
/// plus one letter, so BPE can reach it by merges from single characters,
/// and encoding English-like text gives multi-character tokens, not only
/// bytes.
class PieceGenerator {
public:
  PieceGenerator() {
    pending.push_back(kSpaceMark);
    for (char c = '!'; c <= '~'; ++c)
      pending.push_back(std::string(1, c));
    previous.push_back(kSpaceMark);
    for (char c = 'a'; c <= 'z'; ++c)
      previous.push_back(std::string(1, c));
  }

  std::string next() {
    if (index == pending.size()) {
      // Extend the last level by one letter; each level is 26 times larger,
      // so a 128k vocabulary needs four levels.
      std::vector<std::string> level;
      level.reserve(previous.size() * 26);
      for (const std::string &prefix : previous)
        for (char c = 'a'; c <= 'z'; ++c)
          level.push_back(prefix + c);
      previous = level;
      pending = std::move(level);
      index = 0;
    }
    return pending[index++];
  }

private:
  std::vector<std::string> pending;
  size_t index = 0;
  /// The level the next one extends.
  std::vector<std::string> previous;
};

llvm::Error vocabError(const SynthPreset &preset, const llvm::Twine &message) {
  return llvm::createStringError("preset " + preset.name +
                                 ": tokenizer: " + message);
}

} // namespace

llvm::Expected<std::vector<TokenizerPiece>>
syntheticVocabulary(const SynthPreset &preset) {
  int64_t vocab = preset.vocabSize;
  std::vector<std::optional<TokenizerPiece>> slots(vocab > 0 ? vocab : 0);
  if (slots.empty())
    return vocabError(preset, "the vocabulary is empty");
  slots[0] = TokenizerPiece{"<unk>", 0.0f, PieceType::Unknown};

  for (const SpecialToken &special : preset.specialTokens) {
    if (special.id <= 0 || special.id >= vocab)
      return vocabError(preset,
                        llvm::formatv("special token {0} ('{1}') is "
                                      "outside ids 1..{2}",
                                      special.id, special.piece, vocab - 1));
    if (slots[special.id])
      return vocabError(
          preset, llvm::formatv("two special tokens at id {0}", special.id));
    slots[special.id] = TokenizerPiece{special.piece, 0.0f, PieceType::Control};
  }
  int reserved = 0;
  for (int64_t id = std::max<int64_t>(preset.firstReservedId, 1); id < vocab;
       ++id)
    if (!slots[id])
      slots[id] = TokenizerPiece{
          llvm::formatv("<|reserved_special_token_{0}|>", reserved++).str(),
          0.0f, PieceType::Control};

  // BOS and EOS must be control pieces that sentencepiece finds by name.
  std::vector<int64_t> required{preset.bosId};
  required.insert(required.end(), preset.eosIds.begin(), preset.eosIds.end());
  for (int64_t id : required) {
    bool named = false;
    for (const SpecialToken &special : preset.specialTokens)
      named |= special.id == id;
    if (!named)
      return vocabError(preset,
                        llvm::formatv("bos/eos id {0} is not a named special "
                                      "token",
                                      id));
  }

  // Byte pieces take the lowest free ids, as in Llama 2's tokenizer (3..258).
  int64_t id = 0;
  for (int byte = 0; byte < 256; ++byte) {
    while (id < vocab && slots[id])
      ++id;
    if (id == vocab)
      return vocabError(preset, llvm::formatv("a vocabulary of {0} leaves no "
                                              "room for the 256 byte pieces",
                                              vocab));
    slots[id] = TokenizerPiece{llvm::formatv("<0x{0:X-2}>", byte).str(), 0.0f,
                               PieceType::Byte};
  }

  // Normal pieces fill the rest; earlier (shorter) pieces merge first, the
  // score convention of Llama's own tokenizer.
  PieceGenerator generator;
  int64_t rank = 0;
  for (std::optional<TokenizerPiece> &slot : slots)
    if (!slot)
      slot = TokenizerPiece{generator.next(), -static_cast<float>(rank++),
                            PieceType::Normal};

  std::vector<TokenizerPiece> pieces;
  pieces.reserve(slots.size());
  llvm::StringSet<> seen;
  for (std::optional<TokenizerPiece> &slot : slots) {
    if (slot->piece.empty() || !seen.insert(slot->piece).second)
      return vocabError(preset, "piece '" + slot->piece +
                                    "' is empty or defined twice");
    pieces.push_back(std::move(*slot));
  }
  return pieces;
}

/// The piece called by `id` (which syntheticVocabulary checked is named).
static std::string specialPiece(const SynthPreset &preset, int64_t id) {
  for (const SpecialToken &special : preset.specialTokens)
    if (special.id == id)
      return special.piece;
  return "";
}

llvm::Expected<std::string> buildSyntheticTokenizer(const SynthPreset &preset) {
  auto pieces = syntheticVocabulary(preset);
  if (!pieces)
    return pieces.takeError();

  // Field numbers from sentencepiece_model.proto (sentencepiece 0.1.97).
  ProtoWriter model;
  for (const TokenizerPiece &piece : *pieces) {
    ProtoWriter entry; // ModelProto.SentencePiece
    entry.writeBytes(1, piece.piece);
    entry.writeFloat(2, piece.score);
    entry.writeInt(3, static_cast<int64_t>(piece.type));
    model.writeMessage(1, entry); // repeated pieces = 1
  }

  ProtoWriter trainer;    // TrainerSpec
  trainer.writeInt(3, 2); // model_type = BPE
  trainer.writeInt(4, preset.vocabSize);
  trainer.writeBool(35, true); // byte_fallback
  trainer.writeInt(40, 0);     // unk_id
  trainer.writeInt(41, preset.bosId);
  trainer.writeInt(42, preset.eosIds.empty() ? -1 : preset.eosIds.front());
  trainer.writeInt(43, -1); // pad_id: none
  // The processor looks BOS and EOS up by these names (default "<s>" and
  // "</s>"), not by the ids above.
  trainer.writeBytes(45, "<unk>");
  trainer.writeBytes(46, specialPiece(preset, preset.bosId));
  if (!preset.eosIds.empty())
    trainer.writeBytes(47, specialPiece(preset, preset.eosIds.front()));
  model.writeMessage(2, trainer); // trainer_spec = 2

  ProtoWriter normalizer; // NormalizerSpec, as in Llama's tokenizer.model
  normalizer.writeBytes(1, "identity");
  normalizer.writeBool(3, true);     // add_dummy_prefix
  normalizer.writeBool(4, false);    // remove_extra_whitespaces
  normalizer.writeBool(5, true);     // escape_whitespaces
  model.writeMessage(3, normalizer); // normalizer_spec = 3
  return model.bytes();
}

} // namespace llamac
