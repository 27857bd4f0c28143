//===- SyntheticTokenizerTest.cpp - the synthetic tokenizer.model ---------===//
//
// The tokenizer `llamac synth` writes must load in the runtime's tokenizer
// (the sentencepiece library), have the preset's exact vocabulary and
// special ids, and give back any text it encoded.
//
//===----------------------------------------------------------------------===//

#include "compiler/synth/SyntheticTokenizer.h"
#include "compiler/synth/Presets.h"
#include "compiler/synth/ProtoWriter.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <gtest/gtest.h>

using namespace llamac;

namespace {

/// The message of a failed Expected, or "" if it succeeded.
template <typename T> std::string errorMessage(llvm::Expected<T> value) {
  return value ? "" : llvm::toString(value.takeError());
}

std::unique_ptr<Tokenizer> loadPresetTokenizer(const SynthPreset &preset) {
  llvm::Expected<std::string> bytes = buildSyntheticTokenizer(preset);
  if (!bytes) {
    ADD_FAILURE() << llvm::toString(bytes.takeError());
    return nullptr;
  }
  auto tokenizer = Tokenizer::loadFromSerialized(*bytes);
  if (!tokenizer.ok()) {
    ADD_FAILURE() << tokenizer.status();
    return nullptr;
  }
  return std::move(*tokenizer);
}

/// Texts that exercise byte fallback (non-ASCII, control characters),
/// whitespace runs at either end, and the empty string.
const char *const kTexts[] = {
    "Hello",
    "Once upon a time, there was a little girl named Lily.",
    "  two leading spaces, two  inside and one trailing ",
    "tabs\tand\nnew\r\nlines",
    "h\xC3\xA9llo w\xC3\xB6rld \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC "
    "\xF0\x9F\xA6\x99", // "héllo wörld — 日本 🦙"
    "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "<s> </s> <unk> <0x41> are plain text here",
    "",
};

TEST(SyntheticTokenizerTest, Llama2LayoutFirstIds) {
  const SynthPreset *preset = lookupSynthPreset("stories15m");
  ASSERT_NE(preset, nullptr);
  auto pieces = syntheticVocabulary(*preset);
  ASSERT_TRUE(bool(pieces)) << llvm::toString(pieces.takeError());
  ASSERT_EQ(pieces->size(), 32000u);
  EXPECT_EQ((*pieces)[0].piece, "<unk>");
  EXPECT_EQ((*pieces)[0].type, PieceType::Unknown);
  EXPECT_EQ((*pieces)[1].piece, "<s>");
  EXPECT_EQ((*pieces)[1].type, PieceType::Control);
  EXPECT_EQ((*pieces)[2].piece, "</s>");
  EXPECT_EQ((*pieces)[3].piece, "<0x00>");
  EXPECT_EQ((*pieces)[3].type, PieceType::Byte);
  EXPECT_EQ((*pieces)[258].piece, "<0xFF>");
  EXPECT_EQ((*pieces)[259].piece, "\xE2\x96\x81"); // "▁"
  EXPECT_EQ((*pieces)[259].type, PieceType::Normal);
  // Scores fall with the id, so shorter pieces merge first.
  EXPECT_GT((*pieces)[300].score, (*pieces)[31999].score);
}

TEST(SyntheticTokenizerTest, LoadsWithPresetVocabularyAndIds) {
  for (const SynthPreset &preset : synthPresets()) {
    SCOPED_TRACE(preset.name);
    std::unique_ptr<Tokenizer> tokenizer = loadPresetTokenizer(preset);
    ASSERT_NE(tokenizer, nullptr);
    EXPECT_EQ(tokenizer->vocabSize(), preset.vocabSize);
    EXPECT_EQ(tokenizer->bosId(), preset.bosId);
    EXPECT_EQ(tokenizer->eosId(), preset.eosIds.front());
  }
}

TEST(SyntheticTokenizerTest, RoundTripsText) {
  for (const char *presetName : {"stories15m", "llama-3-8b"}) {
    const SynthPreset *preset = lookupSynthPreset(presetName);
    ASSERT_NE(preset, nullptr);
    std::unique_ptr<Tokenizer> tokenizer = loadPresetTokenizer(*preset);
    ASSERT_NE(tokenizer, nullptr);
    for (const char *text : kTexts) {
      SCOPED_TRACE(std::string(presetName) + ": '" + text + "'");
      std::vector<int> ids = tokenizer->encode(text, /*addBos=*/true).value();
      ASSERT_FALSE(ids.empty());
      EXPECT_EQ(ids.front(), preset->bosId);
      for (int id : ids) {
        EXPECT_GE(id, 0);
        EXPECT_LT(id, preset->vocabSize);
      }
      EXPECT_EQ(tokenizer->decode(ids), text);
    }
  }
}

TEST(SyntheticTokenizerTest, MergesLettersIntoLongerPieces) {
  std::unique_ptr<Tokenizer> tokenizer =
      loadPresetTokenizer(*lookupSynthPreset("stories15m"));
  ASSERT_NE(tokenizer, nullptr);
  std::string text = "the little cat sat on the mat";
  std::vector<int> ids = tokenizer->encode(text, /*addBos=*/false).value();
  // Byte fallback alone would take one token per byte.
  EXPECT_LT(ids.size(), text.size() / 2);
}

TEST(SyntheticTokenizerTest, RejectsInconsistentSpecials) {
  SynthPreset preset = *lookupSynthPreset("stories15m");
  preset.bosId = 7; // Not a named special token.
  EXPECT_EQ(errorMessage(syntheticVocabulary(preset)),
            "preset stories15m: tokenizer: bos/eos id 7 is not a named "
            "special token");
  preset = *lookupSynthPreset("stories15m");
  preset.vocabSize = 200;
  EXPECT_EQ(errorMessage(syntheticVocabulary(preset)),
            "preset stories15m: tokenizer: a vocabulary of 200 leaves no "
            "room for the 256 byte pieces");
}

TEST(ProtoWriterTest, EncodesWireFormat) {
  ProtoWriter writer;
  writer.writeInt(1, 300);    // key 0x08, varint 300 = ac 02
  writer.writeBytes(2, "hi"); // key 0x12, length 2
  writer.writeFloat(3, 1.0f); // key 0x1d, 0x3f800000 little-endian
  writer.writeInt(40, -1);    // key 40 << 3 = 320 = c0 02, ten-byte -1
  static const char kExpected[] =
      "\x08\xac\x02"
      "\x12\x02hi"
      "\x1d\x00\x00\x80\x3f"
      "\xc0\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
  EXPECT_EQ(writer.bytes(), std::string(kExpected, sizeof(kExpected) - 1));
}

} // namespace
