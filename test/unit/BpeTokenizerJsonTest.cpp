//===- BpeTokenizerJsonTest.cpp - tokenizer.json against tiktoken ---------===//
//
// scripts/tiktoken-to-tokenizer-json.py makes a Hugging Face tokenizer.json
// from Meta's tokenizer.model (CTest runs it first, fixture
// llama3_tokenizer_json). Loaded through the tokenizer.json reader, it must
// have the same vocabulary and give the same ids for every reference text
// as the tiktoken file.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace llamac;

namespace {

TEST(BpeTokenizerJsonTest, SameIdsAsTheTiktokenFile) {
  auto fromTiktoken = Tokenizer::load(
      llamac::testing::sourcePath("models/llama3-tokenizer/tokenizer.model"));
  ASSERT_TRUE(fromTiktoken.ok()) << fromTiktoken.status();
  auto fromJson = Tokenizer::load(LLAMA3_TOKENIZER_JSON);
  ASSERT_TRUE(fromJson.ok()) << fromJson.status();
  const Tokenizer &a = **fromTiktoken, &b = **fromJson;
  EXPECT_EQ(b.kind(), "bpe");
  ASSERT_EQ(b.vocabSize(), a.vocabSize());
  EXPECT_EQ(b.bosId(), a.bosId());
  EXPECT_EQ(b.eosId(), a.eosId());
  for (int id = 0; id < a.vocabSize(); ++id)
    ASSERT_EQ(b.pieceBytes(id), a.pieceBytes(id)) << "id " << id;

  std::ifstream in(
      llamac::testing::sourcePath("models/llama3-tokenizer/published_examples.json"));
  nlohmann::json examples = nlohmann::json::parse(in)["examples"];
  for (const auto &e : examples) {
    std::string text = e["text"];
    bool allowSpecial = e["allow_special"];
    EXPECT_EQ(b.encode(text, true, allowSpecial).value(),
              a.encode(text, true, allowSpecial).value())
        << text;
  }
}

} // namespace
