//===- AddedPiecesTest.cpp - tokens appended to a sentencepiece model -----===//
//
// sentencepiece_proto reads and extends a ModelProto on the wire, beside the
// library. Checked against the library itself: the piece types it reads
// must be the ones the loaded processor reports, and the pieces it appends
// must load with the next ids and encode as transformers' legacy Llama
// tokenizer treats added tokens (a plain one always cut out, the text after
// it a stretch of its own; a special one only with allowSpecial, llamac's
// rule for every special token), while every other text encodes as before.
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
    sentencepiece_proto::ModelPieces model = sentencepiece_proto::readPieces(*bytes);
    const std::vector<sentencepiece_proto::Piece> &pieces = model.pieces;
    EXPECT_EQ(model.firstAppended, pieces.size()) << path;
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
    EXPECT_EQ(tokenizer->decode(tokenizer->encode("Once upon a time", false).value()), "Once upon a time");
    EXPECT_EQ(pieces[tokenizer->encode("Once", false).value().at(0)].text, "\xE2\x96\x81Once") << path;
    EXPECT_EQ(bytePieces, 256) << path; // Both fall back to bytes.
  }
}

TEST(SentencePieceProtoTest, MalformedWireGivesNoTypes) {
  EXPECT_TRUE(sentencepiece_proto::readPieces("\x0a\x05\x0a\x01").pieces.empty()); // Past the end.
  EXPECT_TRUE(sentencepiece_proto::readPieces("\xff").pieces.empty()); // Unterminated varint.
  EXPECT_TRUE(sentencepiece_proto::readPieces("\x0b").pieces.empty()); // A group.
  EXPECT_TRUE(sentencepiece_proto::readPieces("").pieces.empty());
}

TEST_F(AddedPiecesTest, AppendedPiecesTakeTheNextIdsWithTheirTypes) {
  ASSERT_EQ(extended->vocabSize(), 514);
  EXPECT_EQ(extended->specialId("<|im_start|>"), 512);
  EXPECT_EQ(extended->specialId("<tag>"), 513); // A chat template may name a plain one.
  EXPECT_TRUE(extended->isSpecial(512));
  EXPECT_FALSE(extended->isSpecial(513));
  EXPECT_EQ(extended->pieceBytes(512), "");      // Special: printed as nothing.
  EXPECT_EQ(extended->pieceBytes(513), "<tag>"); // Plain: printed as itself.
  sentencepiece_proto::ModelPieces model = sentencepiece_proto::readPieces(extended->serialized());
  const std::vector<sentencepiece_proto::Piece> &pieces = model.pieces;
  ASSERT_EQ(pieces.size(), 514u);
  EXPECT_EQ(model.firstAppended, 512u);
  EXPECT_FALSE(extended->isAddedToken(511));
  EXPECT_TRUE(extended->isAddedToken(512));
  EXPECT_TRUE(extended->isAddedToken(513));
  EXPECT_EQ(pieces[512].type, PieceType::Control);
  EXPECT_EQ(pieces[513].type, PieceType::UserDefined);
  EXPECT_EQ(pieces[513].text, "<tag>");
  EXPECT_EQ(extended->bosId(), original->bosId());
  EXPECT_EQ(extended->eosId(), original->eosId());
}

TEST_F(AddedPiecesTest, SpecialPieceIsTextUnlessAllowSpecial) {
  const std::string text = "<|im_start|>user\nOnce upon a time";
  EXPECT_EQ(extended->encode(text, false).value(), original->encode(text, false).value());
  std::vector<int> expected{512};
  std::vector<int> rest = original->encode("user\nOnce upon a time", false).value();
  expected.insert(expected.end(), rest.begin(), rest.end());
  EXPECT_EQ(extended->encode(text, false, /*allowSpecial=*/true).value(), expected);
}

TEST_F(AddedPiecesTest, PlainPieceIsAlwaysCutOutAndDecodesToItself) {
  // Each stretch between is encoded alone, with its dummy prefix, which
  // decoding drops again (transformers' legacy tokenizer: the same ids, and
  // "Once<tag>upon a time" back).
  std::vector<int> expected = original->encode("Once", false).value();
  expected.push_back(513);
  std::vector<int> rest = original->encode("upon a time", false).value();
  expected.insert(expected.end(), rest.begin(), rest.end());
  for (bool allowSpecial : {false, true})
    EXPECT_EQ(extended->encode("Once<tag>upon a time", false, allowSpecial).value(), expected);
  EXPECT_EQ(extended->decode(expected), "Once<tag>upon a time");
  EXPECT_EQ(extended->encode("<tag>", false).value(), std::vector<int>{513});
  std::vector<int> before = original->encode("Once<tag>upon a time", false).value();
  EXPECT_EQ(std::count(before.begin(), before.end(), 513), 0);
  // After a special added token too (a ChatML marker before a role).
  EXPECT_EQ(extended->decode(extended->encode("<|im_start|>user", false, true).value()), "user");
}

TEST_F(AddedPiecesTest, ContinuationCutsAddedWordsAsEncodeDoes) {
  // The first stretch goes on from the text before; the one after the word
  // is a stretch of its own, as in the whole text's encoding.
  std::vector<int> expected = original->encodeContinuation(" once").value();
  expected.push_back(513);
  std::vector<int> rest = original->encode("upon a time", false).value();
  expected.insert(expected.end(), rest.begin(), rest.end());
  EXPECT_EQ(extended->encodeContinuation(" once<tag>upon a time").value(), expected);
  std::vector<int> whole = extended->encode("Once", true).value();
  std::vector<int> more = extended->encodeContinuation(" once<tag>upon a time").value();
  whole.insert(whole.end(), more.begin(), more.end());
  EXPECT_EQ(extended->decode(whole), "Once once<tag>upon a time");
}

TEST_F(AddedPiecesTest, CuttingManyWordsFromALongTextIsLinear) {
  // Each cut used to search the rest of the text for every word: 64 words
  // over 300 KB of them did not finish in 100 s. The count of ids is the
  // check; the time only shows when it regresses to quadratic.
  std::vector<sentencepiece_proto::NewPiece> words;
  for (int i = 0; i < 64; ++i)
    words.push_back({"<w" + std::to_string(i) + ">", PieceType::UserDefined});
  std::unique_ptr<Tokenizer> many = loadBytes(sentencepiece_proto::appendPieces(bytes, words));
  ASSERT_TRUE(many);
  std::string text;
  for (int i = 0; i < 75000; ++i)
    text += "<w" + std::to_string(i % 64) + ">";
  std::vector<int> ids = many->encode(text, false).value();
  ASSERT_EQ(ids.size(), 75000u);
  EXPECT_EQ(ids[0], 512);
  EXPECT_EQ(ids[74999], 512 + 74999 % 64);
}

TEST_F(AddedPiecesTest, AModelsOwnUserDefinedPiecesStayTheLibrarys) {
  // A user-defined piece in the tokenizer.model itself (no llamac mark):
  // not an added token, and printed with its "\u2581" as a space, as
  // sentencepiece prints it.
  std::string own = bytes + std::string("\x0a\x0a\x0a\x06\xe2\x96\x81<P>\x18\x04", 12);
  std::unique_ptr<Tokenizer> tokenizer = loadBytes(own);
  ASSERT_TRUE(tokenizer);
  ASSERT_EQ(tokenizer->vocabSize(), 513);
  EXPECT_FALSE(tokenizer->isAddedToken(512));
  EXPECT_EQ(tokenizer->specialId("\xe2\x96\x81<P>"), -1);
  EXPECT_EQ(tokenizer->decode({403, 512, 407}), "Once <P> upon");
}

TEST_F(AddedPiecesTest, TheMarkIsStrippedAndTheLastOneWins) {
  std::string once = sentencepiece_proto::appendPieces(bytes, {{"<a>", PieceType::Control}});
  EXPECT_EQ(sentencepiece_proto::readPieces(once).firstAppended, 512u);
  // Appending again keeps the first appended id.
  std::string twice = sentencepiece_proto::appendPieces(once, {{"<b>", PieceType::Control}});
  sentencepiece_proto::ModelPieces model = sentencepiece_proto::readPieces(twice);
  EXPECT_EQ(model.pieces.size(), 514u);
  EXPECT_EQ(model.firstAppended, 512u);
  // Without the mark the pieces stay, unmarked.
  sentencepiece_proto::ModelPieces stripped =
      sentencepiece_proto::readPieces(sentencepiece_proto::withoutAppendMark(twice));
  EXPECT_EQ(stripped.pieces.size(), 514u);
  EXPECT_EQ(stripped.firstAppended, 514u);
  EXPECT_EQ(sentencepiece_proto::withoutAppendMark(bytes), bytes);
}

TEST_F(AddedPiecesTest, AnAddedWordsOwnLeadingSpaceIsKept) {
  std::unique_ptr<Tokenizer> spaced = loadBytes(
      sentencepiece_proto::appendPieces(bytes, {{" <x>", PieceType::UserDefined}}));
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->decode({1, 512}), " <x>");
  EXPECT_EQ(spaced->decode({1, 403, 512, 407}), "Once <x>upon");
}

TEST_F(AddedPiecesTest, OtherTextsEncodeAsBefore) {
  std::string error;
  std::vector<GreedyCase> cases = loadGreedyCases(error);
  ASSERT_FALSE(cases.empty()) << error;
  for (const GreedyCase &c : cases) {
    EXPECT_EQ(extended->encode(c.prompt, true).value(), original->encode(c.prompt, true).value()) << c.prompt;
    EXPECT_EQ(extended->encodeContinuation(c.prompt).value(), original->encodeContinuation(c.prompt).value())
        << c.prompt;
  }
  EXPECT_EQ(extended->decode(original->encode(tinyStoriesText(), true).value()),
            original->decode(original->encode(tinyStoriesText(), true).value()));
}

TEST_F(AddedPiecesTest, APieceTheModelHasAlreadyDoesNotLoad) {
  auto loaded = Tokenizer::loadFromSerialized(
      sentencepiece_proto::appendPieces(bytes, {{"</s>", PieceType::Control}}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("</s>"), std::string_view::npos)
      << loaded.status();
}

} // namespace
