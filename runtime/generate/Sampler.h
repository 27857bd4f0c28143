//===- Sampler.h - choose the next token from logits ------------*- C++ -*-===//
//
// Greedy at temperature 0; otherwise temperature, top-k, top-p (nucleus),
// min-p and a draw from a seeded std::mt19937_64, by partial selection, never a sort
// of the whole vocabulary (Sampler.cpp). The draw uses the engine's raw bits
// (not std::uniform_real_distribution, whose algorithm differs between
// standard libraries), so a seed gives the same text everywhere.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_GENERATE_SAMPLER_H
#define LLAMAC_RUNTIME_GENERATE_SAMPLER_H

#include "absl/types/span.h"

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace llamac::runtime {

struct SamplerOptions {
  /// 0: greedy argmax.
  float temperature = 0.0f;
  /// > 0: keep only the k most likely tokens.
  int64_t topK = 0;
  /// In (0, 1]: keep the smallest set of most likely tokens whose
  /// probabilities add up to at least p. 1 keeps all.
  float topP = 1.0f;
  uint64_t seed = 0;
  /// In [0, 1]: drop the tokens less likely than minP times the most likely
  /// one (after temperature; with top-k and top-p, of what they keep, as
  /// Hugging Face transformers' MinPLogitsWarper after its top-k and top-p
  /// warpers). 0 keeps all.
  float minP = 0.0f;
};

/// Index of the largest logit; the lowest index wins ties, NaNs never win
/// (all-NaN logits give 0).
int64_t argmax(absl::Span<const float> logits);

class Sampler {
public:
  explicit Sampler(const SamplerOptions &options);

  /// The next token id in [0, logits.size()).
  int64_t sample(absl::Span<const float> logits);

  /// The candidate ids and their probabilities (summing to 1) that
  /// `sample` draws from at temperature > 0, most likely first. Exposed for
  /// tests (without top-k or top-p it sorts the whole vocabulary, which
  /// `sample` never does: it walks the distribution in id order then).
  std::vector<std::pair<int64_t, double>>
  candidates(absl::Span<const float> logits) const;

  /// What `sample` draws from, as one probability per id of `logits`
  /// (zero outside the candidates): the softmax after temperature, top-k,
  /// top-p and min-p, or at temperature 0 all of it on the argmax. Speculative
  /// decoding's acceptance compares these for the draft and the target.
  std::vector<double> distribution(absl::Span<const float> logits) const;

  /// One uniform draw in [0, 1) from the sampler's engine (53 random
  /// bits), the one `sample` uses.
  double uniform();

  /// A draw from `probabilities` (non-negative weights; normalized here)
  /// with one uniform(): the first id whose running sum passes it; the
  /// last id with a positive weight when rounding leaves it short, 0 when
  /// none has.
  int64_t sampleFrom(absl::Span<const double> probabilities);

  bool greedy() const { return options.temperature <= 0.0f; }

private:
  /// True if top-k, top-p or min-p may leave out part of an `n`-token
  /// vocabulary.
  bool truncates(size_t n) const;
  /// The candidates; the untruncated ones sorted only if `sortAll`.
  std::vector<std::pair<int64_t, double>>
  select(absl::Span<const float> logits, bool sortAll) const;

  SamplerOptions options;
  std::mt19937_64 rng;
  /// exp((logit - max) / T) per id, reused between tokens.
  std::vector<double> weights;
  /// Scratch of select(), reused between tokens: the logits with NaN as
  /// -inf, and candidate ids.
  mutable std::vector<float> keys;
  mutable std::vector<int32_t> order;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_GENERATE_SAMPLER_H
