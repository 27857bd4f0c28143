//===- Sampler.cpp - choose the next token from logits --------------------===//

#include "runtime/generate/Sampler.h"

#include <algorithm>
#include <cmath>

namespace llamac::runtime {

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

std::vector<std::pair<int64_t, double>>
Sampler::candidates(absl::Span<const float> logits) const {
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
  probs.reserve(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    double p =
        std::isnan(logits[i]) ? 0.0 : std::exp((logits[i] - maxLogit) * invT);
    probs.emplace_back(static_cast<int64_t>(i), p);
    sum += p;
  }
  for (auto &entry : probs)
    entry.second /= sum;

  // Most likely first; the lower id first among equals, so that the order
  // (and with it the sampled token) does not depend on the sort algorithm.
  auto moreLikely = [](const std::pair<int64_t, double> &a,
                       const std::pair<int64_t, double> &b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  size_t keep = n;
  bool truncatedByTopK = false;
  if (options.topK > 0 && static_cast<size_t>(options.topK) < n) {
    keep = static_cast<size_t>(options.topK);
    truncatedByTopK = true;
  }
  if (options.topP < 1.0f && keep == n && n > 1) {
    // As llama2.c does: a token with p < (1 - topP) / (n - 1) can never be
    // in the nucleus, and dropping those first saves sorting the whole
    // vocabulary.
    const double cutoff = (1.0 - options.topP) / (n - 1);
    auto end = std::partition(probs.begin(), probs.end(), [&](const auto &e) {
      return e.second >= cutoff;
    });
    if (end != probs.begin())
      probs.erase(end, probs.end());
    keep = probs.size();
  }
  std::partial_sort(probs.begin(), probs.begin() + keep, probs.end(),
                    moreLikely);
  probs.resize(keep);
  if (options.topP < 1.0f) {
    // After top-k the nucleus is taken of the renormalised k (as HF
    // transformers does); the llama2.c cutoff above drops only tokens that
    // cannot be in the nucleus, so there the mass stays the whole 1.
    double mass = 1.0;
    if (truncatedByTopK) {
      mass = 0;
      for (const auto &e : probs)
        mass += e.second;
    }
    const double target = options.topP * mass;
    double cumulative = 0;
    size_t i = 0;
    for (; i < probs.size(); ++i) {
      cumulative += probs[i].second;
      if (cumulative >= target)
        break;
    }
    probs.resize(std::min(probs.size(), i + 1));
  }
  double total = 0;
  for (const auto &e : probs)
    total += e.second;
  for (auto &e : probs)
    e.second /= total;
  return probs;
}

std::vector<double> Sampler::distribution(absl::Span<const float> logits) const {
  std::vector<double> dense(logits.size(), 0.0);
  if (logits.empty())
    return dense;
  if (options.temperature <= 0.0f || logits.size() <= 1) {
    dense[static_cast<size_t>(argmax(logits))] = 1.0;
    return dense;
  }
  for (const auto &[id, p] : candidates(logits))
    dense[static_cast<size_t>(id)] = p;
  return dense;
}

double Sampler::uniform() {
  // 53 random bits -> a double uniform in [0, 1), identical on every
  // platform for a given seed.
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

int64_t Sampler::sampleFrom(absl::Span<const double> probabilities) {
  double total = 0;
  for (double p : probabilities)
    total += p > 0 ? p : 0;
  const double r = uniform() * total;
  double cumulative = 0;
  int64_t lastPositive = 0;
  for (size_t i = 0; i < probabilities.size(); ++i) {
    if (probabilities[i] <= 0)
      continue;
    lastPositive = static_cast<int64_t>(i);
    cumulative += probabilities[i];
    if (r < cumulative)
      return lastPositive;
  }
  return lastPositive;
}

int64_t Sampler::sample(absl::Span<const float> logits) {
  if (options.temperature <= 0.0f || logits.size() <= 1)
    return argmax(logits);
  std::vector<std::pair<int64_t, double>> probs = candidates(logits);
  if (probs.empty())
    return 0;
  const double r = uniform();
  double cumulative = 0;
  for (const auto &[id, p] : probs) {
    cumulative += p;
    if (r < cumulative)
      return id;
  }
  return probs.back().first; // rounding left r just above the total
}

} // namespace llamac::runtime
