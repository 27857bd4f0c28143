//===- SpeculativeBench.cpp - plain and speculative decode side by side ---===//

#include "runtime/bench/SpeculativeBench.h"

namespace llamac::bench {

std::vector<int> repetitivePrompt(int bos, const std::vector<int> &segment, int copies) {
  std::vector<int> prompt = {bos};
  for (int c = 0; c < copies; ++c)
    prompt.insert(prompt.end(), segment.begin(), segment.end());
  return prompt;
}

absl::StatusOr<SpeculativeBenchResult>
measureSpeculative(Session &session, SpeculativeDecoder &decoder, const std::vector<int> &prompt,
                   int64_t newTokens, int repeats) {
  if (repeats < 1)
    return absl::InvalidArgumentError("--repeats must be at least 1");
  GenerateOptions options;
  options.maxNewTokens = newTokens;
  SpeculativeBenchResult r;
  r.promptTokens = static_cast<int64_t>(prompt.size());
  std::vector<double> plainRates, fastRates;
  for (int run = 0; run <= repeats; ++run) {
    absl::StatusOr<GenerateResult> plain = session.generate(prompt, options);
    if (!plain.ok())
      return plain.status();
    absl::StatusOr<GenerateResult> fast = decoder.generate(prompt, options);
    if (!fast.ok())
      return fast.status();
    r.identical = r.identical && fast->generatedTokens == plain->generatedTokens;
    if (run == 0)
      continue; // warm-up
    plainRates.push_back(plain->stats.decodeTokensPerS);
    fastRates.push_back(fast->stats.decodeTokensPerS);
    r.tokens = static_cast<int64_t>(plain->generatedTokens.size());
    r.stats = *fast->stats.speculative;
  }
  r.plainTokensPerS = summarize(plainRates);
  r.speculativeTokensPerS = summarize(fastRates);
  if (r.plainTokensPerS.median > 0)
    r.speedup = r.speculativeTokensPerS.median / r.plainTokensPerS.median;
  return r;
}

} // namespace llamac::bench
