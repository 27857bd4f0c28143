//===- TokenizerTest.cpp - the runtime's sentencepiece tokenizer ----------===//
//
// Checked against llama2.c's reference runs with tok512.model: encoding of
// each prompt, and decoding (whole and streamed) of each token sequence.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

using namespace llamac;
using namespace llamac::testing;

namespace {

class TokenizerTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto loaded = Tokenizer::load(stories260KTokenizer());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    tokenizer = std::move(*loaded);
    std::string error;
    cases = loadGreedyCases(error);
    ASSERT_FALSE(cases.empty()) << error;
  }

  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<GreedyCase> cases;
};

TEST_F(TokenizerTest, VocabularyAndSpecialIds) {
  EXPECT_EQ(tokenizer->vocabSize(), 512);
  EXPECT_EQ(tokenizer->bosId(), 1);
  EXPECT_EQ(tokenizer->eosId(), 2);
}

TEST_F(TokenizerTest, EncodesReferencePrompts) {
  for (const GreedyCase &c : cases)
    EXPECT_EQ(tokenizer->encode(c.prompt, /*addBos=*/true).value(),
              c.sentencepiecePromptIds)
        << "prompt: '" << c.prompt << "'";
}

TEST_F(TokenizerTest, EncodeWithoutBos) {
  std::vector<int> ids = tokenizer->encode("Once upon a time", false).value();
  EXPECT_EQ(ids, (std::vector<int>{403, 407, 261, 378}));
}

TEST_F(TokenizerTest, AllowSpecialTurnsControlPieceTextIntoIds) {
  std::vector<int> once = tokenizer->encode("Once", false).value();
  std::vector<int> expected{1};
  expected.insert(expected.end(), once.begin(), once.end());
  expected.push_back(2);
  expected.push_back(2);
  EXPECT_EQ(tokenizer->encode("<s>Once</s></s>", false, /*allowSpecial=*/true).value(), expected);
  // Without, and for text that only resembles a tag, it is text.
  for (auto [text, allow] : {std::pair{"<s>Once</s>", false}, {"<s Once /s>", true}}) {
    std::vector<int> ids = tokenizer->encode(text, false, allow).value();
    EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 0) << text;
    EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 0) << text;
  }
  EXPECT_EQ(tokenizer->encode("", false, true).value(), std::vector<int>{});
}

// A continuation is encoded as sentencepiece encodes the same bytes inside
// a whole text: at a newline or a space, where no piece crosses, the whole
// text's ids are the beginning's followed by the continuation's.
TEST_F(TokenizerTest, ContinuationEncodesAsInsideTheWholeText) {
  std::vector<int> start = tokenizer->encode("Once upon a time", false).value();
  for (const char *rest : {"\nThe cat", " there was a dog.", "\n\n Lily"}) {
    SCOPED_TRACE(rest);
    std::vector<int> joined = start;
    std::vector<int> continuation = tokenizer->encodeContinuation(rest).value();
    joined.insert(joined.end(), continuation.begin(), continuation.end());
    EXPECT_EQ(joined, tokenizer->encode(std::string("Once upon a time") + rest, false).value());
    EXPECT_EQ(tokenizer->decode(joined), std::string("Once upon a time") + rest);
    // As a whole text, a newline gets the dummy prefix's space piece first.
    if (rest[0] == '\n') {
      std::vector<int> whole = tokenizer->encode(rest, false).value();
      ASSERT_EQ(whole.size(), continuation.size() + 1);
      EXPECT_EQ(tokenizer->pieceBytes(whole[0]), " ");
      EXPECT_EQ(std::vector<int>(whole.begin() + 1, whole.end()), continuation);
    }
  }
  EXPECT_EQ(tokenizer->encodeContinuation("").value(), std::vector<int>{});
}

TEST_F(TokenizerTest, DecodesReferenceSequences) {
  for (const GreedyCase &c : cases)
    EXPECT_EQ(tokenizer->decode(c.tokenIds), c.decodedText)
        << "prompt: '" << c.prompt << "', steps " << c.steps;
}

TEST_F(TokenizerTest, StreamingDecoderMatchesDecode) {
  for (const GreedyCase &c : cases) {
    StreamingDecoder decoder(*tokenizer);
    std::string streamed;
    for (int id : c.tokenIds)
      streamed += decoder.next(id);
    streamed += decoder.flush();
    EXPECT_EQ(streamed, c.decodedText) << "prompt: '" << c.prompt << "'";
  }
}

TEST_F(TokenizerTest, LeadingSpaceDroppedOnlyAfterBos) {
  std::vector<int> once = tokenizer->encode("Once", false).value();
  ASSERT_FALSE(once.empty());
  EXPECT_EQ(tokenizer->pieceBytes(once[0])[0], ' ');
  std::vector<int> ids = {1};
  ids.insert(ids.end(), once.begin(), once.end());
  ids.insert(ids.end(), once.begin(), once.end());
  EXPECT_EQ(tokenizer->decode(ids), "Once Once");
  // BOS in the middle of a stream starts a new text, as in run.c.
  ids.push_back(1);
  ids.insert(ids.end(), once.begin(), once.end());
  EXPECT_EQ(tokenizer->decode(ids), "Once OnceOnce");
}

/// Byte-fallback ids: tok512 maps byte b to id 3 + b.
TEST_F(TokenizerTest, ByteFallbackAcrossTokensIsHeldBack) {
  ASSERT_EQ(tokenizer->pieceBytes(3 + 0x41), "A");
  // "é" is C3 A9; "€" is E2 82 AC: split over several tokens.
  StreamingDecoder decoder(*tokenizer);
  EXPECT_EQ(decoder.next(1), "");
  EXPECT_EQ(decoder.next(3 + 0xC3), "");
  EXPECT_EQ(decoder.next(3 + 0xA9), "\xC3\xA9");
  EXPECT_EQ(decoder.next(3 + 0xE2), "");
  EXPECT_EQ(decoder.next(3 + 0x82), "");
  EXPECT_EQ(decoder.next(3 + 0xAC), "\xE2\x82\xAC");
  // An incomplete character at the end comes out on flush.
  EXPECT_EQ(decoder.next(3 + 0xE2), "");
  EXPECT_EQ(decoder.flush(), "\xE2");
}

TEST_F(TokenizerTest, InvalidUtf8PassesThrough) {
  StreamingDecoder decoder(*tokenizer);
  // A lone continuation byte, then a lead byte followed by ASCII.
  EXPECT_EQ(decoder.next(3 + 0x80), "\x80");
  EXPECT_EQ(decoder.next(3 + 0xC3), "");
  EXPECT_EQ(decoder.next(3 + 'x'), "\xC3x");
}

TEST_F(TokenizerTest, EncodeDecodeRoundTripsUnicode) {
  std::string text =
      "Lily saw a caf\xC3\xA9 \xE2\x82\xAC and \xF0\x9F\x98\x80.";
  EXPECT_EQ(tokenizer->decode(tokenizer->encode(text, true).value()), text);
}

TEST_F(TokenizerTest, LoadFromSerializedBytes) {
  auto loaded = Tokenizer::loadFromSerialized(tokenizer->serialized());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->encode("Lily and Ben", true).value(),
            (std::vector<int>{1, 317, 269, 368, 302}));
}

TEST(TokenizerLoadTest, MissingFileIsNotFound) {
  auto loaded = Tokenizer::load("/nonexistent/tokenizer.model");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(loaded.status().message().find("/nonexistent/tokenizer.model"),
            std::string::npos);
}

TEST(TokenizerLoadTest, GarbageIsRejected) {
  auto loaded = Tokenizer::loadFromSerialized("this is not a model proto");
  EXPECT_FALSE(loaded.ok());
}

// Found by fuzz_tokenizer_model: a model with bos_id -1 loaded, and every
// prompt then began with id -1.
TEST(TokenizerLoadTest, ModelWithoutBosIsRejected) {
  auto loaded = Tokenizer::load(
      sourcePath("test/fuzz/corpus/tokenizer_model/crash-no-bos"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("no BOS piece (bos_id -1)"),
            std::string::npos)
      << loaded.status();
}

TEST(TokenizerLoadTest, Llama2TokenizerHas32000Pieces) {
  auto loaded = Tokenizer::load(llama2Tokenizer());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->vocabSize(), 32000);
  // Continuation at a newline, against the whole text (see above).
  const Tokenizer &t = **loaded;
  std::vector<int> joined = t.encode("[INST] Hi [/INST] Hello!", false).value();
  std::vector<int> next = t.encodeContinuation("\nHow are you?").value();
  joined.insert(joined.end(), next.begin(), next.end());
  EXPECT_EQ(joined, t.encode("[INST] Hi [/INST] Hello!\nHow are you?", false).value());
}

} // namespace
