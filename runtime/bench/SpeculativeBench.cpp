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
                   int64_t newTokens, int repeats, const std::vector<int64_t> &referenceEvery) {
  if (repeats < 1)
    return absl::InvalidArgumentError("--repeats must be at least 1");
  GenerateOptions options;
  options.maxNewTokens = newTokens;
  SpeculativeBenchResult r;
  r.promptTokens = static_cast<int64_t>(prompt.size());
  std::vector<double> plainRates, fastRates;
  std::vector<int64_t> plainTokens;
  for (int run = 0; run <= repeats; ++run) {
    absl::StatusOr<GenerateResult> plain = session.generate(prompt, options);
    if (!plain.ok())
      return plain.status();
    absl::StatusOr<GenerateResult> fast = decoder.generate(prompt, options);
    if (!fast.ok())
      return fast.status();
    r.identical = r.identical && fast->generatedTokens == plain->generatedTokens;
    plainTokens.assign(plain->generatedTokens.begin(), plain->generatedTokens.end());
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

  const int64_t vocab = session.model().info().vocab;
  for (int64_t every : referenceEvery) {
    // Another id at every `every`-th token: a draft reaching it is rejected.
    std::vector<int64_t> reference = plainTokens;
    for (size_t i = every > 0 ? every - 1 : reference.size(); i < reference.size(); i += every)
      reference[i] = (reference[i] + 1) % vocab;
    if (absl::Status s = decoder.setLookupReference(reference); !s.ok())
      return s;
    SpeculativeBenchResult::ReferenceRun run;
    run.every = every;
    std::vector<double> rates;
    for (int i = 0; i <= repeats; ++i) {
      absl::StatusOr<GenerateResult> fast = decoder.generate(prompt, options);
      if (!fast.ok()) {
        decoder.setLookupReference({}).IgnoreError(); // an empty one is always valid
        return fast.status();
      }
      std::vector<int64_t> tokens(fast->generatedTokens.begin(), fast->generatedTokens.end());
      run.identical = run.identical && tokens == plainTokens;
      if (i == 0)
        continue; // warm-up
      rates.push_back(fast->stats.decodeTokensPerS);
      run.stats = *fast->stats.speculative;
    }
    run.tokensPerS = summarize(rates);
    if (r.plainTokensPerS.median > 0)
      run.speedup = run.tokensPerS.median / r.plainTokensPerS.median;
    r.referenceRuns.push_back(std::move(run));
  }
  decoder.setLookupReference({}).IgnoreError();
  return r;
}

} // namespace llamac::bench
