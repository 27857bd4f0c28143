//===- AddedPiecesTest.cpp - tokens appended to a sentencepiece model -----===//
//
// sentencepiece_proto reads and extends a ModelProto on the wire, beside the
// library. Checked against the library itself: the piece types it reads
// must be the ones the loaded processor reports, and the pieces it appends
// must load with the next ids and encode as transformers treats added
// tokens (a special one only with allowSpecial, a plain one always), while
// every other text encodes as before.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/SentencePieceProto.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace llamac;
using namespace llamac::testing;
using sentencepiece_proto::PieceType;

namespace {

std::unique_ptr<Tokenizer> loadBytes(const std::string &bytes) {
  auto loaded = Tokenizer::loadFromSerialized(bytes);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? std::move(*loaded) : nullptr;
}

class AddedPiecesTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::optional<std::string> read = readFile(stories260KTokenizer());
    ASSERT_TRUE(read);
    bytes = *read;
    original = loadBytes(bytes);
    ASSERT_TRUE(original);
    extended = loadBytes(sentencepiece_proto::appendPieces(
        bytes, {{"<|im_start|>", PieceType::Control}, {"<tag>", PieceType::UserDefined}}));
    ASSERT_TRUE(extended);
  }

  std::string bytes;
  std::unique_ptr<Tokenizer> original, extended;
};

TEST(SentencePieceProtoTest, PiecesAreTheLibrarysForStoriesAndLlama2) {
  for (const std::string &path : {stories260KTokenizer(), llama2Tokenizer()}) {
    std::optional<std::string> bytes = readFile(path);
    ASSERT_TRUE(bytes) << path;
    std::unique_ptr<Tokenizer> tokenizer = loadBytes(*bytes);
    ASSERT_TRUE(tokenizer);
    std::vector<sentencepiece_proto::Piece> pieces = sentencepiece_proto::readPieces(*bytes);
    ASSERT_EQ(pieces.size(), static_cast<size_t>(tokenizer->vocabSize())) << path;
    int bytePieces = 0;
    for (int id = 0; id < tokenizer->vocabSize(); ++id) {
      EXPECT_EQ(pieces[id].type == PieceType::Control, tokenizer->isSpecial(id))
          << path << " id " << id;
      bytePieces += pieces[id].type == PieceType::Byte;
    }
    EXPECT_EQ(pieces[0].type, PieceType::Unknown) << path;
    EXPECT_EQ(pieces[0].text, "<unk>") << path;
    EXPECT_EQ(pieces[tokenizer->bosId()].text, "<s>") << path;
    EXPECT_EQ(tokenizer->decode(tokenizer->encode("Once upon a time", false)), "Once upon a time");
    EXPECT_EQ(pieces[tokenizer->encode("Once", false).at(0)].text, "\xE2\x96\x81Once") << path;
    EXPECT_EQ(bytePieces, 256) << path; // Both fall back to bytes.
  }
}

TEST(SentencePieceProtoTest, MalformedWireGivesNoTypes) {
  EXPECT_TRUE(sentencepiece_proto::readPieces("\x0a\x05\x0a\x01").empty()); // Length past the end.
  EXPECT_TRUE(sentencepiece_proto::readPieces("\xff").empty());             // Unterminated varint.
  EXPECT_TRUE(sentencepiece_proto::readPieces("\x0b").empty());             // A group.
  EXPECT_TRUE(sentencepiece_proto::readPieces("").empty());
}

TEST_F(AddedPiecesTest, AppendedPiecesTakeTheNextIdsWithTheirTypes) {
  ASSERT_EQ(extended->vocabSize(), 514);
  EXPECT_EQ(extended->specialId("<|im_start|>"), 512);
  EXPECT_EQ(extended->specialId("<tag>"), 513); // A chat template may name a plain one.
  EXPECT_TRUE(extended->isSpecial(512));
  EXPECT_FALSE(extended->isSpecial(513));
  EXPECT_EQ(extended->pieceBytes(512), "");      // Special: printed as nothing.
  EXPECT_EQ(extended->pieceBytes(513), "<tag>"); // Plain: printed as itself.
  std::vector<sentencepiece_proto::Piece> pieces =
      sentencepiece_proto::readPieces(extended->serialized());
  ASSERT_EQ(pieces.size(), 514u);
  EXPECT_EQ(pieces[512].type, PieceType::Control);
  EXPECT_EQ(pieces[513].type, PieceType::UserDefined);
  EXPECT_EQ(pieces[513].text, "<tag>");
  EXPECT_EQ(extended->bosId(), original->bosId());
  EXPECT_EQ(extended->eosId(), original->eosId());
}

TEST_F(AddedPiecesTest, SpecialPieceIsTextUnlessAllowSpecial) {
  const std::string text = "<|im_start|>user\nOnce upon a time";
  EXPECT_EQ(extended->encode(text, false), original->encode(text, false));
  std::vector<int> expected{512};
  std::vector<int> rest = original->encode("user\nOnce upon a time", false);
  expected.insert(expected.end(), rest.begin(), rest.end());
  EXPECT_EQ(extended->encode(text, false, /*allowSpecial=*/true), expected);
}

TEST_F(AddedPiecesTest, PlainPieceIsAlwaysCutOutAndDecodesToItself) {
  // Each stretch between is encoded alone, as with allowSpecial's control
  // pieces and transformers' legacy Llama tokenizer.
  std::vector<int> expected = original->encode("Once", false);
  expected.push_back(513);
  std::vector<int> rest = original->encode("upon a time", false);
  expected.insert(expected.end(), rest.begin(), rest.end());
  for (bool allowSpecial : {false, true})
    EXPECT_EQ(extended->encode("Once<tag>upon a time", false, allowSpecial), expected);
  EXPECT_EQ(extended->encode("<tag>", false), std::vector<int>{513});
  std::vector<int> before = original->encode("Once<tag>upon a time", false);
  EXPECT_EQ(std::count(before.begin(), before.end(), 513), 0);
  EXPECT_EQ(extended->decode({403, 513, 261}), "Once<tag> a");
}

TEST_F(AddedPiecesTest, OtherTextsEncodeAsBefore) {
  std::string error;
  std::vector<GreedyCase> cases = loadGreedyCases(error);
  ASSERT_FALSE(cases.empty()) << error;
  for (const GreedyCase &c : cases) {
    EXPECT_EQ(extended->encode(c.prompt, true), original->encode(c.prompt, true)) << c.prompt;
    EXPECT_EQ(extended->encodeContinuation(c.prompt), original->encodeContinuation(c.prompt))
        << c.prompt;
  }
  EXPECT_EQ(extended->decode(original->encode(tinyStoriesText(), true)),
            original->decode(original->encode(tinyStoriesText(), true)));
}

TEST_F(AddedPiecesTest, APieceTheModelHasAlreadyDoesNotLoad) {
  auto loaded = Tokenizer::loadFromSerialized(
      sentencepiece_proto::appendPieces(bytes, {{"</s>", PieceType::Control}}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("</s>"), std::string_view::npos)
      << loaded.status();
}

} // namespace
