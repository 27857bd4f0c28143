//===- Sampler.cpp - choose the next token from logits --------------------===//
//
// At Llama 3's 128K vocabulary a full sort per token would cost more than
// it should, so nothing here sorts the vocabulary:
//   - temperature alone: one pass for the softmax's sum, one walk in id
//     order to the drawn mass;
//   - top-k: one scan keeps the k largest logits in a heap, then only
//     those k are sorted;
//   - top-p: tokens too unlikely to be in any nucleus are dropped by a test
//     on their logit (llama2.c's cutoff), then the most likely of the rest
//     are selected and sorted in growing chunks (64, 256, 1024, ...) until
//     the nucleus is complete: O(n) for a peaked distribution, no more
//     than a sort of the survivors for a flat one;
//   - min-p: a token whose weight exp((logit - max) / T), its probability
//     over the most likely one's, is below minP is dropped, after top-k
//     and top-p have chosen from the whole distribution.
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
         options.topP < 1.0f || options.minP > 0.0f;
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
  // probability 0 and rank below every number.
  keys.resize(n);
  float maxKey = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    keys[i] = rankKey(logits[i]);
    maxKey = std::max(maxKey, keys[i]);
  }
  const double maxLogit = maxKey;
  if (!std::isfinite(maxLogit)) // all NaN, or +inf present
    return {{argmax(logits), 1.0}};
  const double invT = 1.0 / options.temperature;
  auto weight = [&](int32_t id) {
    return keys[id] == -INFINITY ? 0.0
                                 : std::exp((keys[id] - maxLogit) * invT);
  };
  // Most likely first; the lower id first among equals, so that the order
  // (and with it the sampled token) does not depend on the algorithm.
  auto moreLikely = [&](int32_t a, int32_t b) {
    return keys[a] > keys[b] || (keys[a] == keys[b] && a < b);
  };

  order.clear();
  double mass = 0;
  const bool topK = options.topK > 0 && static_cast<size_t>(options.topK) < n;
  if (topK) {
    // The k most likely in one scan: a heap of the best k so far, whose
    // least likely is at the front; most logits lose to it at once.
    const size_t k = static_cast<size_t>(options.topK);
    for (int32_t i = 0; i < static_cast<int32_t>(n); ++i) {
      if (order.size() < k) {
        order.push_back(i);
        std::push_heap(order.begin(), order.end(), moreLikely);
      } else if (moreLikely(i, order.front())) {
        std::pop_heap(order.begin(), order.end(), moreLikely);
        order.back() = i;
        std::push_heap(order.begin(), order.end(), moreLikely);
      }
    }
    for (int32_t id : order)
      mass += weight(id);
  } else {
    for (size_t i = 0; i < n; ++i)
      mass += weight(static_cast<int32_t>(i));
    if (options.topP < 1.0f && n > 1) {
      // As llama2.c does: a token with p < (1 - topP) / (n - 1) can never
      // be in the nucleus (the rest could not reach topP without it), so
      // only the others are ranked. The test is on logits: no exp.
      const double cutoff = (1.0 - options.topP) / (n - 1) * mass;
      const double least = maxLogit + std::log(cutoff) / invT;
      for (size_t i = 0; i < n; ++i)
        if (keys[i] >= least)
          order.push_back(static_cast<int32_t>(i));
    }
    // The dropped tokens weigh less than 1 - topP together, so the nucleus
    // lies within the survivors, unless none survived (a tiny vocabulary
    // with topP near 0): then all are ranked.
    if (order.empty()) {
      order.resize(n);
      std::iota(order.begin(), order.end(), 0);
    }
  }
  const size_t keep = order.size();
  // min-p: a token's weight is its probability over the most likely
  // one's (which always passes: its weight is 1).
  auto passesMinP = [&](int32_t id) { return weight(id) >= double(options.minP); };

  if (options.topP >= 1.0f) {
    if (options.minP > 0.0f) {
      order.erase(std::remove_if(order.begin(), order.end(),
                                 [&](int32_t id) { return !passesMinP(id); }),
                  order.end());
      mass = 0;
      for (int32_t id : order)
        mass += weight(id);
    }
    if (topK || sortAll)
      std::sort(order.begin(), order.end(), moreLikely);
    probs.reserve(order.size());
    for (int32_t id : order)
      probs.emplace_back(id, weight(id) / mass);
    return probs;
  }

  // The nucleus (of the renormalised top k after top-k, as HF transformers
  // does): the most likely tokens, selected and sorted in growing chunks
  // until their mass reaches topP.
  const double target = options.topP * mass;
  double cumulative = 0;
  size_t sorted = 0;
  bool complete = false;
  for (size_t chunk = 64; sorted < keep && !complete; chunk *= 4) {
    size_t end = std::min(keep, sorted + chunk);
    // Selecting more than half of what is left costs more than sorting it.
    if (end - sorted > (keep - sorted) / 2)
      end = keep;
    if (end < keep)
      std::nth_element(order.begin() + sorted, order.begin() + end,
                       order.end(), moreLikely);
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
  // min-p cuts the nucleus (most likely first) where its tokens fall
  // below minP times the first.
  if (options.minP > 0.0f)
    while (probs.size() > 1 && !passesMinP(static_cast<int32_t>(probs.back().first)))
      probs.pop_back();
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
  const double r = uniform();

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
