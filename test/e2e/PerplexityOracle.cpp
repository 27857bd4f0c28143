//===- PerplexityOracle.cpp - perplexity by the reference pass ------------===//

#include "test/e2e/PerplexityOracle.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/Support/Error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

namespace llamac::testing {

std::vector<std::string> storiesOf(const std::string &text) {
  std::vector<std::string> stories;
  std::string current, line;
  auto flush = [&] {
    size_t b = 0, e = current.size();
    while (b < e && std::isspace(static_cast<unsigned char>(current[b])))
      ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(current[e - 1])))
      --e;
    if (e > b)
      stories.push_back(current.substr(b, e - b));
    current.clear();
  };
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (line == "<|endoftext|>") {
      flush();
      continue;
    }
    current += line;
    current += '\n';
  }
  flush();
  return stories;
}

OracleResult oraclePerplexity(const ModelConfig &config, const WeightStore &weights,
                              const reference::ReferenceOptions &options,
                              const Tokenizer &tokenizer,
                              const std::vector<std::string> &stories, size_t first,
                              size_t count, int64_t ctx) {
  OracleResult result;
  auto model = reference::ReferenceModel::create(config, weights, options);
  if (!model) {
    llvm::consumeError(model.takeError());
    return result;
  }
  double total = 0;
  for (size_t s = first; s < std::min(stories.size(), first + count); ++s) {
    std::vector<int> ids = tokenizer.encode(stories[s], /*addBos=*/true).value();
    result.tokensWithBos += static_cast<int64_t>(ids.size());
    if (static_cast<int64_t>(ids.size()) > ctx) {
      ids.resize(static_cast<size_t>(ctx));
      ++result.truncatedStories;
    }
    for (size_t pos = 0; pos + 1 < ids.size(); ++pos) {
      std::vector<float> logits = (*model)->forward(ids[pos], static_cast<int64_t>(pos));
      double maxLogit = *std::max_element(logits.begin(), logits.end());
      double sum = 0;
      for (float v : logits)
        sum += std::exp(v - maxLogit);
      total += maxLogit + std::log(sum) - logits[ids[pos + 1]];
      ++result.predictedTokens;
    }
  }
  result.meanNll = total / static_cast<double>(result.predictedTokens);
  result.perplexity = std::exp(result.meanNll);
  return result;
}

} // namespace llamac::testing
