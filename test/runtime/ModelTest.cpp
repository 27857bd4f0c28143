//===- ModelTest.cpp - the generation loop on a fake language model -------===//
//
// The artifact here carries the real llama2 tokenizer and the test kernel
// library, whose "model" predicts next = (sum of all tokens so far,
// read back from the KV cache at their positions) % vocab. Any mistake in
// chunking, padding, positions, cache binding or the logits row shows up as
// a different token sequence.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/runtime/FakeModel.h"
#include "test/runtime/OpenSession.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

namespace llamac {
namespace {

using nlohmann::json;
using test::expectedTokens;
using test::fakeModel;
using test::FakeModelSpec;
using test::kVocab;
using test::TempFile;
using test::TestArtifact;
using ::testing::HasSubstr;

std::unique_ptr<Tokenizer> loadTokenizer() {
  auto t = Tokenizer::load(LLAMAC_TEST_TOKENIZER_PATH);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

/// A session of the fake model in `file`.
absl::StatusOr<std::unique_ptr<Session>> loadFake(const TempFile &file,
                                                  ModelOptions options = {}) {
  if (options.threads == 0)
    options.threads = 2;
  return test::openSession(file.path, options);
}

TEST(ModelTest, GreedyGenerationFollowsTheModel) {
  std::unique_ptr<Tokenizer> tokenizer = loadTokenizer();
  ASSERT_TRUE(tokenizer);
  for (int64_t prefill : {0, 1, 3, 4, 64}) {
    FakeModelSpec spec;
    spec.prefillTokens = prefill;
    spec.maxSeqLen = 96;
    TempFile file("fake.llamac", fakeModel(spec).bytes());
    auto model = loadFake(file);
    ASSERT_TRUE(model.ok()) << model.status();
    for (std::string prompt :
         {"", "Once", "Once upon a time, there was a little girl"}) {
      GenerateOptions options;
      options.maxNewTokens = 12;
      std::string streamed;
      std::vector<int> streamedIds;
      auto result = (*model)->generate(prompt, options,
                                       [&](int id, std::string_view text) {
                                         if (id >= 0)
                                           streamedIds.push_back(id);
                                         streamed += text;
                                         return true;
                                       });
      ASSERT_TRUE(result.ok()) << result.status();
      std::vector<int> promptIds = tokenizer->encode(prompt, true).value();
      EXPECT_EQ(result->promptTokens, promptIds);
      std::vector<int> expected = expectedTokens(promptIds, 12, spec.eos);
      EXPECT_EQ(result->generatedTokens, expected)
          << "prefill " << prefill << ", prompt '" << prompt << "'";
      EXPECT_EQ(streamedIds, result->generatedTokens);
      EXPECT_EQ(streamed, result->text);
      if (expected.size() == 12) {
        EXPECT_EQ(result->stopReason, StopReason::MaxNewTokens);
      }
      // The streamed text continues the prompt: prompt + text decodes as one.
      std::vector<int> all = promptIds;
      all.insert(all.end(), expected.begin(), expected.end());
      EXPECT_EQ(tokenizer->decode(promptIds) + result->text,
                tokenizer->decode(all));
      EXPECT_EQ(result->stats.prefillTokens,
                static_cast<int64_t>(promptIds.size()));
      // One decode per token after the first; one more when that decode
      // produced the end of the sequence.
      int64_t generated = result->generatedTokens.size();
      EXPECT_EQ(result->stats.decodeTokens,
                result->stopReason == StopReason::EndOfSequence
                    ? generated
                    : std::max<int64_t>(generated - 1, 0));
      EXPECT_GT(result->stats.weightBytes, 0u);
    }
  }
}

TEST(ModelTest, StopsAtEndOfSequence) {
  std::unique_ptr<Tokenizer> tokenizer = loadTokenizer();
  ASSERT_TRUE(tokenizer);
  std::string prompt = "Hello world";
  std::vector<int> ids = tokenizer->encode(prompt, true).value();
  std::vector<int> free = expectedTokens(ids, 5, {});
  FakeModelSpec spec;
  spec.eos = {free[2]}; // the third token ends the sequence
  TempFile file("eos.llamac", fakeModel(spec).bytes());
  auto model = loadFake(file);
  ASSERT_TRUE(model.ok()) << model.status();
  auto result = (*model)->generate(prompt, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stopReason, StopReason::EndOfSequence);
  EXPECT_EQ(result->generatedTokens,
            std::vector<int>(free.begin(), free.begin() + 2));
}

TEST(ModelTest, StopsWhenTheSequenceIsFull) {
  std::unique_ptr<Tokenizer> tokenizer = loadTokenizer();
  ASSERT_TRUE(tokenizer);
  FakeModelSpec spec;
  TempFile file("full.llamac", fakeModel(spec).bytes());
  std::string prompt = "Hello world";
  int64_t n = tokenizer->encode(prompt, true).value().size();
  ModelOptions options;
  options.maxSeqLen = n + 3;
  auto model = loadFake(file, options);
  ASSERT_TRUE(model.ok()) << model.status();
  auto result = (*model)->generate(prompt, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stopReason, StopReason::MaxSeqLen);
  EXPECT_EQ(result->generatedTokens.size(), 3u);

  // The artifact's own cap: generation fills max_seq_len and stops.
  auto full = loadFake(file);
  ASSERT_TRUE(full.ok());
  GenerateOptions many;
  many.maxNewTokens = 1000;
  auto r2 = (*full)->generate(prompt, many);
  ASSERT_TRUE(r2.ok()) << r2.status();
  // The fake's tokens are never EOS here (the sum of the sequence mod 32000).
  ASSERT_EQ(r2->stopReason, StopReason::MaxSeqLen);
  EXPECT_EQ(n + static_cast<int64_t>(r2->generatedTokens.size()), spec.maxSeqLen);
}

TEST(ModelTest, PromptLongerThanTheCap) {
  TempFile file("long.llamac", fakeModel({}).bytes());
  ModelOptions options;
  options.maxSeqLen = 3;
  auto model = loadFake(file, options);
  ASSERT_TRUE(model.ok()) << model.status();
  auto result = (*model)->generate("Once upon a time there was", {});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::MatchesRegex("prompt has [0-9]+ tokens but "
                                      "--max-seq-len is 3"));
}

TEST(ModelTest, MaxSeqLenAboveTheArtifacts) {
  TempFile file("cap.llamac", fakeModel({}).bytes());
  ModelOptions options;
  options.maxSeqLen = 33;
  auto model = loadFake(file, options);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("--max-seq-len 33 is larger than the 32 positions"));
}

TEST(ModelTest, CallbackCanInterrupt) {
  TempFile file("stop.llamac", fakeModel({}).bytes());
  auto model = loadFake(file);
  ASSERT_TRUE(model.ok()) << model.status();
  int calls = 0;
  auto result = (*model)->generate("Hi", {}, [&](int id, std::string_view) {
    return id < 0 || ++calls < 2;
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->stopReason, StopReason::Interrupted);
  EXPECT_EQ(result->generatedTokens.size(), 2u);
}

TEST(ModelTest, ZeroNewTokens) {
  TempFile file("zero.llamac", fakeModel({}).bytes());
  auto model = loadFake(file);
  ASSERT_TRUE(model.ok());
  GenerateOptions options;
  options.maxNewTokens = 0;
  auto result = (*model)->generate("Hi", options);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->generatedTokens.empty());
  EXPECT_EQ(result->stopReason, StopReason::MaxNewTokens);
}

TEST(ModelTest, SeededSamplingIsReproducible) {
  TempFile file("seed.llamac", fakeModel({}).bytes());
  auto model = loadFake(file);
  ASSERT_TRUE(model.ok());
  GenerateOptions options;
  options.temperature = 1.0f;
  options.seed = 42;
  options.maxNewTokens = 8;
  auto a = (*model)->generate("Hi", options);
  auto b = (*model)->generate("Hi", options);
  options.seed = 43;
  auto c = (*model)->generate("Hi", options);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->generatedTokens, b->generatedTokens);
  EXPECT_EQ(a->text, b->text);
  EXPECT_NE(a->generatedTokens, c->generatedTokens);
}

TEST(ModelTest, RefusesBadGenerateOptions) {
  TempFile file("opts.llamac", fakeModel({}).bytes());
  auto model = loadFake(file);
  ASSERT_TRUE(model.ok());
  GenerateOptions o;
  o.topP = 0;
  EXPECT_FALSE((*model)->generate("Hi", o).ok());
  o = {};
  o.temperature = -1;
  EXPECT_FALSE((*model)->generate("Hi", o).ok());
  o = {};
  o.maxNewTokens = -1;
  EXPECT_FALSE((*model)->generate("Hi", o).ok());
}

TEST(ModelTest, MissingKernelSymbol) {
  FakeModelSpec spec;
  spec.logitsKernel = "k_absent";
  TempFile file("nosym.llamac", fakeModel(spec).bytes());
  auto model = loadFake(file);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("has no symbol k_absent_packed"));
}

TEST(ModelTest, MissingCpuFeatures) {
  FakeModelSpec spec;
  spec.cpuFeatures = {"fpu", "no_such_feature_1", "no_such_feature_2"};
  TempFile file("feat.llamac", fakeModel(spec).bytes());
  auto model = loadFake(file);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            file.path + " was compiled for CPU features this machine lacks: "
                        "no_such_feature_1, no_such_feature_2");
}

TEST(ModelTest, BadTokenizerSection) {
  TestArtifact a = fakeModel({});
  a.tokenizer = "garbage";
  TempFile file("badtok.llamac", a.bytes());
  auto model = loadFake(file);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("cannot load the tokenizer"));
}

// A tokenizer of another size than the model's vocabulary (llamac never
// writes one) would turn ids past either end into silently wrong text.
TEST(ModelTest, TokenizerOfAnotherVocabularyIsRefused) {
  TestArtifact a = fakeModel({});
  a.tokenizer = test::readFile(LLAMAC_TEST_STORIES_TOKENIZER_PATH);
  TempFile file("smalltok.llamac", a.bytes());
  auto model = loadFake(file);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            file.path + ": the tokenizer has 512 tokens but the model's vocabulary is 32000");
}

} // namespace
} // namespace llamac
