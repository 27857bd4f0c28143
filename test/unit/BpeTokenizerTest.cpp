//===- BpeTokenizerTest.cpp - Llama 3's byte-level BPE tokenizer ----------===//
//
// Checked against independent truth: the 70 published (text -> ids)
// vectors (Meta's tests, llama.cpp, llama3-tokenizer-js) and the 22
// cross-checked encodings with their regex pieces, all from
// models/llama3-tokenizer (SOURCE.md), loaded from Meta's own
// tokenizer.model. Also: special tokens, streaming decode, invalid UTF-8,
// the serialized form, and malformed files.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/BpeTokenizer.h"
#include "runtime/tokenizer/HFTokenizerJson.h"
#include "runtime/tokenizer/PreTokenizer.h"
#include "runtime/tokenizer/TiktokenFile.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/unit/TestData.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace llamac;
using nlohmann::json;

namespace {

std::string llama3Path(const std::string &file) {
  return llamac::testing::sourcePath("models/llama3-tokenizer/" + file);
}

json readJson(const std::string &path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Loaded once: parsing 128,000 lines is the slow part.
const Tokenizer &llama3() {
  static std::unique_ptr<Tokenizer> tokenizer = [] {
    auto loaded = Tokenizer::load(llama3Path("tokenizer.model"));
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.status();
      return std::unique_ptr<Tokenizer>();
    }
    return std::move(*loaded);
  }();
  return *tokenizer;
}

TEST(BpeTokenizerTest, LoadsMetasTokenizerModelAsBpe) {
  const Tokenizer &t = llama3();
  EXPECT_EQ(t.kind(), "bpe");
  EXPECT_EQ(t.vocabSize(), 128256);
  EXPECT_EQ(t.bosId(), 128000);
  EXPECT_EQ(t.eosId(), 128001);
  EXPECT_FALSE(t.isSpecial(127999));
  EXPECT_TRUE(t.isSpecial(128009));
}

TEST(BpeTokenizerTest, PublishedExamples) {
  json examples = readJson(llama3Path("published_examples.json"))["examples"];
  ASSERT_EQ(examples.size(), 70u);
  const Tokenizer &t = llama3();
  for (const json &e : examples) {
    std::string text = e["text"];
    std::vector<int> ids =
        t.encode(text, e["bos"].get<bool>(), e["allow_special"].get<bool>()).value();
    if (e["eos"].get<bool>())
      ids.push_back(t.eosId());
    EXPECT_EQ(ids, e["ids"].get<std::vector<int>>()) << "text: " << text;
    // Round trip: BOS and EOS decode to their names, which the text lacks.
    std::vector<int> body(ids.begin() + (e["bos"].get<bool>() ? 1 : 0),
                          ids.end() - (e["eos"].get<bool>() ? 1 : 0));
    EXPECT_EQ(t.decode(body), text);
  }
}

TEST(BpeTokenizerTest, CrossCheckedEncodingsAndPieces) {
  json file = readJson(llama3Path("encodings.json"));
  auto pre = PreTokenizer::compile(file["pattern"].get<std::string>());
  ASSERT_TRUE(pre.ok()) << pre.status();
  EXPECT_EQ((*pre)->pattern(), kLlama3Pattern);
  const Tokenizer &t = llama3();
  ASSERT_EQ(file["cases"].size(), 22u);
  for (const json &c : file["cases"]) {
    std::string text = c["text"];
    bool allowSpecial = c["allow_special"];
    EXPECT_EQ(t.encode(text, false, allowSpecial).value(),
              c["ids"].get<std::vector<int>>())
        << c["name"];
    EXPECT_EQ(t.decode(c["ids"].get<std::vector<int>>()), text) << c["name"];
    if (allowSpecial)
      continue; // pieces there include the special tokens
    std::vector<std::string> pieces;
    (*pre)->split(text, [&](std::string_view p) { pieces.emplace_back(p); });
    EXPECT_EQ(pieces, c["pieces"].get<std::vector<std::string>>()) << c["name"];
  }
}

TEST(BpeTokenizerTest, SpecialTokensOnlyWhenAllowedAlwaysDecoded) {
  json table = readJson(llama3Path("special_tokens.json"));
  const Tokenizer &t = llama3();
  // Our naming is Hugging Face's Llama 3.1 files' (Llama3Specials.h).
  json names = table["namings"]["hf-llama-3.1"];
  ASSERT_EQ(names.size(), 256u);
  for (const json &entry : names) {
    int id = entry[0];
    std::string name = entry[1];
    EXPECT_EQ(t.pieceBytes(id), name);
    EXPECT_EQ(t.encode(name, false, true).value(), std::vector<int>{id});
    std::vector<int> plain = t.encode(name, false, false).value();
    EXPECT_GT(plain.size(), 1u) << name;
    for (int p : plain)
      EXPECT_LT(p, 128000) << name;
    EXPECT_EQ(t.decode(plain), name);
  }
  EXPECT_EQ(t.encode("a", /*addBos=*/true).value(),
            (std::vector<int>{128000, 64}));
}

TEST(BpeTokenizerTest, StreamingDecodeNeverSplitsACharacter) {
  const Tokenizer &t = llama3();
  // Rare CJK characters and emoji are several byte-level tokens each.
  std::string text = "naïve 🦙 鑫 𝄞 ok ✓";
  std::vector<int> ids = t.encode(text, false).value();
  ASSERT_GT(ids.size(), 8u);
  StreamingDecoder decoder(t);
  std::string streamed;
  for (int id : ids) {
    std::string piece = decoder.next(id);
    EXPECT_EQ(replaceInvalidUtf8(piece), piece) << "half a character";
    streamed += piece;
  }
  streamed += decoder.flush();
  EXPECT_EQ(streamed, text);
}

TEST(BpeTokenizerTest, InvalidUtf8IsReplaced) {
  const Tokenizer &t = llama3();
  EXPECT_EQ(replaceInvalidUtf8("a\xFF" "b\xE2\x82"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(replaceInvalidUtf8("\xED\xA0\x80"), // a surrogate: 3 subparts
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(t.encode("caf\xC3 x", false).value(), t.encode("caf\xEF\xBF\xBD x", false).value());
}

TEST(BpeTokenizerTest, LongInputsAreLinearAndExact) {
  const Tokenizer &t = llama3();
  // One 200 KB piece (letters without spaces) and a long whitespace run.
  std::string letters(200000, 'a');
  std::vector<int> ids = t.encode(letters, false).value();
  EXPECT_EQ(t.decode(ids), letters);
  std::string spaces = "x" + std::string(100000, ' ') + "y\n\n";
  EXPECT_EQ(t.decode(t.encode(spaces, false).value()), spaces);
}

TEST(BpeTokenizerTest, PatternsThatBacktrackWithoutBoundAreRefused) {
  // Each match of `(a|aa)+c` on a run of letters tries every way of
  // splitting the run (exponential in its length): tokenizing 4 KB took
  // minutes before the match limit and this check.
  auto refused = PreTokenizer::compile("(a|aa)+c|.");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("matching it on 256 repeats of 'a' failed"));
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("backtracks without bound"));
  // The published patterns pass (Llama 3's, GPT-2's).
  EXPECT_TRUE(PreTokenizer::compile(kLlama3Pattern).ok());
  EXPECT_TRUE(
      PreTokenizer::compile(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)")
          .ok());
}

TEST(BpeTokenizerTest, TextThePatternBacktracksOnWithoutBoundIsAnError) {
  // `(x|xx)+y` passes every probe of compile() (no probe holds an `x`) but
  // backtracks without bound on a run of x: encoding such text is an error
  // naming where, never ids of pieces the pattern does not give.
  auto pre = PreTokenizer::compile("(x|xx)+y|.");
  ASSERT_TRUE(pre.ok()) << pre.status();
  std::vector<std::string> pieces;
  absl::Status split =
      (*pre)->split("ab" + std::string(64, 'x'), [&](std::string_view p) { pieces.emplace_back(p); });
  ASSERT_FALSE(split.ok());
  EXPECT_THAT(std::string(split.message()), ::testing::HasSubstr("at byte 2 ("));
  EXPECT_EQ(pieces, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE((*pre)->split("xxy ab", [](std::string_view) {}).ok());

  BpeVocabulary vocab;
  for (int byte = 0; byte < 256; ++byte)
    vocab.tokens.emplace_back(std::string(1, static_cast<char>(byte)), byte);
  vocab.specials = {{"<s>", 256}};
  vocab.pattern = "(x|xx)+y|.";
  auto t = BpeTokenizer::create(std::move(vocab));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->encode("xxy", false).value(), (std::vector<int>{'x', 'x', 'y'}));
  auto ids = (*t)->encode(std::string(64, 'x'), false);
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(std::string(ids.status().message()),
              ::testing::HasSubstr("backtracks without bound on such text"));
  // The byte is counted in the whole text, past a special token cut out.
  auto afterSpecial = (*t)->encode("ab<s>" + std::string(64, 'x'), false, /*allowSpecial=*/true);
  ASSERT_FALSE(afterSpecial.ok());
  EXPECT_THAT(std::string(afterSpecial.status().message()), ::testing::HasSubstr("at byte 5 ("));
}

TEST(BpeTokenizerTest, SerializedFormRoundTrips) {
  const Tokenizer &t = llama3();
  auto again = Tokenizer::loadKind("bpe", t.serialized());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->vocabSize(), t.vocabSize());
  EXPECT_EQ((*again)->bosId(), t.bosId());
  std::string text = "Hello, world! <|eot_id|> 12345 ÿ";
  EXPECT_EQ((*again)->encode(text, true, true).value(), t.encode(text, true, true).value());
  EXPECT_EQ((*again)->serialized(), t.serialized());
}

std::string errorOf(std::string_view bytes) {
  auto loaded = Tokenizer::loadFromSerialized(bytes);
  return loaded.ok() ? "" : std::string(loaded.status().message());
}

/// The first `n` lines of Meta's file.
std::string tiktokenLines(size_t n) {
  std::string all = readFile(llama3Path("tokenizer.model"));
  size_t end = 0;
  for (size_t i = 0; i < n; ++i)
    end = all.find('\n', end) + 1;
  return all.substr(0, end);
}

TEST(BpeTokenizerTest, MalformedTiktokenFiles) {
  std::string good = tiktokenLines(300);
  EXPECT_EQ(errorOf(good), "");
  EXPECT_NE(errorOf(good + "IQ== 300\n").find("line 301: token bytes repeated"),
            std::string::npos);
  EXPECT_NE(errorOf(good + "//// 5\n").find("line 301: rank 5 repeated"),
            std::string::npos)
      << errorOf(good + "//// 5\n");
  EXPECT_NE(errorOf(good + "a*b= 300\n").find("line 301: bad base64"),
            std::string::npos);
  EXPECT_NE(errorOf(good + "YWJj 3x\n").find("line 301: bad rank"),
            std::string::npos);
  // Without all 256 single bytes some text could not be encoded.
  EXPECT_NE(errorOf(tiktokenLines(100)).find("lacks the single byte"),
            std::string::npos);
}

TEST(BpeTokenizerTest, MalformedTokenizerJson) {
  EXPECT_NE(errorOf(R"({"model": {"type": "Unigram", "vocab": []}})")
                .find("model type is 'Unigram', not 'BPE'"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"model": {"type": "BPE", "vocab": {}, "merges": []},
                       "pre_tokenizer": {"type": "Metaspace"}})")
                .find("not ByteLevel"),
            std::string::npos);
  EXPECT_NE(errorOf("{ not json").find("not a JSON object"), std::string::npos);
  EXPECT_NE(errorOf(R"({"model": {"type": "BPE", "vocab": {"\u4e00": 0},
                       "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}})")
                .find("is not byte-level text"),
            std::string::npos);
}

} // namespace
