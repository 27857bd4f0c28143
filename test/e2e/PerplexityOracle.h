//===- PerplexityOracle.h - perplexity by the reference pass ----*- C++ -*-===//
//
// The independent truth for `llama-run eval`: the perplexity definition of
// docs/eval.md computed with the plain C++ reference forward pass
// (test/reference), one token per pass, with its own split of the text
// into documents. Test-only.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_E2E_PERPLEXITYORACLE_H
#define LLAMAC_TEST_E2E_PERPLEXITYORACLE_H

#include "compiler/import/ModelConfig.h"
#include "compiler/import/WeightStore.h"
#include "test/reference/ReferenceModel.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac {
class Tokenizer;
}

namespace llamac::testing {

/// The stories of `text`: the pieces between lines `<|endoftext|>`,
/// stripped, empty ones dropped.
std::vector<std::string> storiesOf(const std::string &text);

struct OracleResult {
  double perplexity = 0;
  double meanNll = 0;
  /// Tokens with BOS before truncation.
  int64_t tokensWithBos = 0;
  int64_t predictedTokens = 0;
  int64_t truncatedStories = 0;
};

/// PPL of `stories` [first, first + count) under the reference pass over
/// `weights`, each story [BOS] + encode(story) cut to `ctx` tokens.
OracleResult oraclePerplexity(const ModelConfig &config, const WeightStore &weights,
                              const reference::ReferenceOptions &options,
                              const Tokenizer &tokenizer,
                              const std::vector<std::string> &stories, size_t first,
                              size_t count, int64_t ctx);

} // namespace llamac::testing

#endif // LLAMAC_TEST_E2E_PERPLEXITYORACLE_H
