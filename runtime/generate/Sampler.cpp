//===- Sampler.cpp - choose the next token from logits --------------------===//
//
// At Llama 3's 128K vocabulary a full sort per token would cost more than
// it should, so nothing here sorts the vocabulary:
//   - temperature alone: one pass for the softmax's sum, one walk in id
//     order to the drawn mass;
//   - top-k: nth_element picks the k largest logits (O(n)), then only those
//     k are sorted;
//   - top-p: the most likely tokens are selected and sorted in growing
//     chunks (64, 256, 1024, ...) until the nucleus is complete, so a
//     peaked distribution costs O(n) and a flat one no more than a sort.
// bench/sampler-bench measures it (bench/README.md).
//
//===----------------------------------------------------------------------===//

#include "runtime/generate/Sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace llamac::runtime {

namespace {

/// NaN logits rank below every number.
float rankKey(float logit) { return std::isnan(logit) ? -INFINITY : logit; }

} // namespace

int64_t argmax(absl::Span<const float> logits) {
  int64_t best = 0;
  bool found = false;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i]))
      continue;
    if (!found || logits[i] > logits[best]) {
      best = static_cast<int64_t>(i);
      found = true;
    }
  }
  return best;
}

Sampler::Sampler(const SamplerOptions &options)
    : options(options), rng(options.seed) {}

bool Sampler::truncates(size_t n) const {
  return (options.topK > 0 && static_cast<size_t>(options.topK) < n) ||
         options.topP < 1.0f;
}

std::vector<std::pair<int64_t, double>>
Sampler::candidates(absl::Span<const float> logits) const {
  return select(logits, /*sortAll=*/true);
}

std::vector<std::pair<int64_t, double>>
Sampler::select(absl::Span<const float> logits, bool sortAll) const {
  const size_t n = logits.size();
  std::vector<std::pair<int64_t, double>> probs;
  if (n == 0)
    return probs;
  // Softmax of logits / T in double, shifted by the maximum. NaN logits get
  // probability 0.
  double maxLogit = -INFINITY;
  for (float l : logits)
    if (!std::isnan(l))
      maxLogit = std::max(maxLogit, static_cast<double>(l));
  if (!std::isfinite(maxLogit)) // all NaN, or +inf present
    return {{argmax(logits), 1.0}};
  const double invT = 1.0 / options.temperature;
  auto weight = [&](int64_t id) {
    float l = logits[id];
    return std::isnan(l) ? 0.0 : std::exp((l - maxLogit) * invT);
  };

  // Most likely first; the lower id first among equals, so that the order
  // (and with it the sampled token) does not depend on the algorithm.
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto moreLikely = [&](int32_t a, int32_t b) {
    float ka = rankKey(logits[a]), kb = rankKey(logits[b]);
    return ka > kb || (ka == kb && a < b);
  };
  size_t keep = n;
  bool truncatedByTopK = false;
  if (options.topK > 0 && static_cast<size_t>(options.topK) < n) {
    keep = static_cast<size_t>(options.topK);
    truncatedByTopK = true;
    std::nth_element(order.begin(), order.begin() + keep, order.end(),
                     moreLikely);
  }

  if (options.topP >= 1.0f) {
    if (truncatedByTopK || sortAll)
      std::sort(order.begin(), order.begin() + keep, moreLikely);
    probs.reserve(keep);
    double total = 0;
    for (size_t i = 0; i < keep; ++i) {
      probs.emplace_back(order[i], weight(order[i]));
      total += probs.back().second;
    }
    for (auto &e : probs)
      e.second /= total;
    return probs;
  }

  // The nucleus: of the renormalised top k after top-k (as HF transformers
  // does), else of the whole distribution.
  double mass = 0;
  for (size_t i = 0; i < keep; ++i)
    mass += weight(order[i]);
  const double target = options.topP * mass;
  double cumulative = 0;
  size_t sorted = 0;
  bool complete = false;
  for (size_t chunk = 64; sorted < keep && !complete; chunk *= 4) {
    size_t end = std::min(keep, sorted + chunk);
    std::nth_element(order.begin() + sorted, order.begin() + end,
                     order.begin() + keep, moreLikely);
    std::sort(order.begin() + sorted, order.begin() + end, moreLikely);
    for (; sorted < end; ++sorted) {
      double w = weight(order[sorted]);
      probs.emplace_back(order[sorted], w);
      cumulative += w;
      if (cumulative >= target) {
        complete = true;
        break;
      }
    }
  }
  double total = 0;
  for (const auto &e : probs)
    total += e.second;
  for (auto &e : probs)
    e.second /= total;
  return probs;
}

int64_t Sampler::sample(absl::Span<const float> logits) {
  if (options.temperature <= 0.0f || logits.size() <= 1)
    return argmax(logits);
  // 53 random bits -> a double uniform in [0, 1), identical on every
  // platform for a given seed.
  const double r = static_cast<double>(rng() >> 11) * 0x1.0p-53;

  if (!truncates(logits.size())) {
    // The whole distribution, walked in id order: no sort, no copy.
    double maxLogit = -INFINITY;
    for (float l : logits)
      if (!std::isnan(l))
        maxLogit = std::max(maxLogit, static_cast<double>(l));
    if (!std::isfinite(maxLogit))
      return argmax(logits);
    const double invT = 1.0 / options.temperature;
    weights.resize(logits.size());
    double total = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      float l = logits[i];
      weights[i] = std::isnan(l) ? 0.0 : std::exp((l - maxLogit) * invT);
      total += weights[i];
    }
    const double drawn = r * total;
    double cumulative = 0;
    int64_t last = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      if (weights[i] == 0)
        continue;
      cumulative += weights[i];
      last = static_cast<int64_t>(i);
      if (drawn < cumulative)
        return last;
    }
    return last; // rounding left the draw just above the total
  }

  std::vector<std::pair<int64_t, double>> probs =
      select(logits, /*sortAll=*/false);
  if (probs.empty())
    return 0;
  double cumulative = 0;
  for (const auto &[id, p] : probs) {
    cumulative += p;
    if (r < cumulative)
      return id;
  }
  return probs.back().first; // rounding left r just above the total
}

} // namespace llamac::runtime
