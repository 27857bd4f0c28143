//===- PerplexityE2ETest.cpp - llama-run eval against the reference pass --===//
//
// `llama-run eval`'s library (runtime/eval) over the compiled stories260K
// against the perplexity that the plain reference forward pass gives on the
// same stories (PerplexityOracle), and the counts the shared eval README
// states for this text and tokenizer.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Checkpoint.h"
#include "runtime/api/Model.h"
#include "runtime/eval/Perplexity.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "test/e2e/PerplexityOracle.h"
#include "test/unit/TestData.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace llamac;
namespace data = llamac::testing;

namespace {

std::shared_ptr<const Model> loadModel(const std::string &name) {
  ModelOptions options;
  options.threads = 2;
  auto model = Model::load(std::string(LLAMAC_E2E_DIR) + "/" + name + ".llamac", options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

std::string storiesText() {
  std::optional<std::string> text = data::readFile(data::tinyStoriesText());
  EXPECT_TRUE(text.has_value()) << data::tinyStoriesText();
  return text.value_or("");
}

/// The text of stories [first, first + count) with their separators, as a
/// file holding only them would be.
std::string joinStories(const std::vector<std::string> &stories, size_t first, size_t count) {
  std::string text;
  for (size_t i = first; i < first + count; ++i)
    text += stories[i] + "\n<|endoftext|>\n";
  return text;
}

double relative(double a, double b) { return std::fabs(a - b) / std::fabs(b); }

TEST(PerplexityE2E, SplittingFollowsTheSeparatorLines) {
  std::vector<std::string_view> docs =
      eval::splitDocuments("  a\nb \n<|endoftext|>\n\n<|endoftext|>\r\nc<|endoftext|>\n"
                           "<|endoftext|> \nd\n<|endoftext|>",
                           "<|endoftext|>");
  // A separator must be the whole line (a trailing '\r' aside).
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], "a\nb");
  EXPECT_EQ(docs[1], "c<|endoftext|>\n<|endoftext|> \nd");
  std::string text = storiesText();
  EXPECT_EQ(eval::splitDocuments(text, "<|endoftext|>").size(), 371u);
  EXPECT_EQ(data::storiesOf(text).size(), 371u);
}

TEST(PerplexityE2E, TokenNllIsLogSumExpMinusTheTarget) {
  std::vector<float> logits{1.0f, 2.0f, 3.0f};
  double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(eval::tokenNll(logits, 0), lse - 1.0, 1e-12);
  EXPECT_NEAR(eval::tokenNll(logits, 2), lse - 3.0, 1e-12);
  // Large logits do not overflow.
  std::vector<float> big{1000.0f, 1000.0f};
  EXPECT_NEAR(eval::tokenNll(big, 1), std::log(2.0), 1e-12);
}

/// The check: the first 100 stories through the compiled f32 model,
/// within 1e-4 relative of the reference pass's perplexity; the token
/// counts are the shared eval README's.
TEST(PerplexityE2E, FirstHundredStoriesMatchTheReferencePass) {
  std::shared_ptr<const Model> model = loadModel("stories260K-bin");
  ASSERT_TRUE(model);
  std::string text = storiesText();
  eval::EvalOptions options;
  options.separator = "<|endoftext|>";
  options.maxDocs = 100;
  absl::StatusOr<eval::EvalResult> result = eval::evaluatePerplexity(model, text, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->documents, 100);
  EXPECT_EQ(result->predictedTokens, 37068);
  EXPECT_EQ(result->truncatedDocuments, 5);
  EXPECT_EQ(result->ctx, 512);

  auto checkpoint = importCheckpoint(data::stories260KBin());
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  auto tokenizer = Tokenizer::load(data::stories260KTokenizer());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  data::OracleResult oracle = data::oraclePerplexity(
      checkpoint->config, checkpoint->weights, {}, **tokenizer, data::storiesOf(text), 0, 100, 512);
  EXPECT_EQ(oracle.tokensWithBos, 37413);
  EXPECT_EQ(oracle.predictedTokens, 37068);
  std::printf("stories 1-100: eval %.8f, reference pass %.8f (%.2g relative), %.0f tok/s\n",
              result->perplexity, oracle.perplexity,
              relative(result->perplexity, oracle.perplexity), result->tokensPerS);
  EXPECT_LT(relative(result->perplexity, oracle.perplexity), 1e-4);
  // A model that predicts nothing (uniform over 512) has PPL 512; this one
  // has learnt the stories.
  EXPECT_LT(result->perplexity, 20.0);
}

TEST(PerplexityE2E, ChunkedPrefillAgreesWithOneTokenPerPass) {
  std::shared_ptr<const Model> model = loadModel("stories260K-bin");
  ASSERT_TRUE(model);
  std::string text = storiesText();
  eval::EvalOptions options;
  options.separator = "<|endoftext|>";
  options.maxDocs = 12;
  auto chunked = eval::evaluatePerplexity(model, text, options);
  options.tokensPerCall = 1;
  auto single = eval::evaluatePerplexity(model, text, options);
  // Odd pieces: chunks that start in the middle of a prefill chunk.
  options.tokensPerCall = 37;
  auto odd = eval::evaluatePerplexity(model, text, options);
  ASSERT_TRUE(chunked.ok() && single.ok() && odd.ok());
  EXPECT_EQ(chunked->predictedTokens, single->predictedTokens);
  EXPECT_LT(relative(chunked->perplexity, single->perplexity), 1e-5);
  EXPECT_LT(relative(odd->perplexity, single->perplexity), 1e-5);
}

TEST(PerplexityE2E, ContextTruncatesEachStory) {
  std::shared_ptr<const Model> model = loadModel("stories260K-bin");
  ASSERT_TRUE(model);
  std::vector<std::string> stories = data::storiesOf(storiesText());
  auto tokenizer = Tokenizer::load(data::stories260KTokenizer());
  ASSERT_TRUE(tokenizer.ok());
  eval::EvalOptions options;
  options.separator = "<|endoftext|>";
  options.ctx = 64;
  auto result = eval::evaluatePerplexity(model, joinStories(stories, 0, 4), options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->predictedTokens, 4 * 63);
  EXPECT_EQ(result->truncatedDocuments, 4);
}

TEST(PerplexityE2E, WithoutSeparatorTheTextIsCutIntoWindows) {
  std::shared_ptr<const Model> model = loadModel("stories260K-bin");
  ASSERT_TRUE(model);
  std::vector<std::string> stories = data::storiesOf(storiesText());
  auto tokenizer = Tokenizer::load(data::stories260KTokenizer());
  ASSERT_TRUE(tokenizer.ok());
  std::string text = stories[0] + "\n" + stories[1];
  int64_t textTokens = static_cast<int64_t>((*tokenizer)->encode(text, false).value().size());
  eval::EvalOptions options;
  options.ctx = 100;
  auto result = eval::evaluatePerplexity(model, text, options);
  ASSERT_TRUE(result.ok()) << result.status();
  // Every text token is predicted once, in windows of BOS + 99 tokens.
  EXPECT_EQ(result->predictedTokens, textTokens);
  EXPECT_EQ(result->documents, (textTokens + 98) / 99);
  options.maxDocs = 2;
  auto two = eval::evaluatePerplexity(model, text, options);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->documents, 2);
  EXPECT_EQ(two->predictedTokens, 2 * 99);
}

TEST(PerplexityE2E, BadInputIsAnError) {
  std::shared_ptr<const Model> model = loadModel("stories260K-bin");
  ASSERT_TRUE(model);
  eval::EvalOptions options;
  options.separator = "<|endoftext|>";
  for (std::string text : {"", "  \n\n", "<|endoftext|>\n<|endoftext|>\n"}) {
    auto result = eval::evaluatePerplexity(model, text, options);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << "'" << text << "'";
  }
  options.ctx = 1;
  EXPECT_FALSE(eval::evaluatePerplexity(model, "Once upon a time", options).ok());
  options.ctx = 513;
  auto tooLong = eval::evaluatePerplexity(model, "Once upon a time", options);
  EXPECT_FALSE(tooLong.ok());
  EXPECT_NE(tooLong.status().message().find("512"), std::string::npos) << tooLong.status();
}

} // namespace
