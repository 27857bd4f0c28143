//===- SamplerBench.cpp - sampling cost at Llama 3's 128K vocabulary ------===//
//
//   sampler-bench [--vocab N] [--iterations I]
//
// Times Sampler::sample on N logits (default 128,256, drawn from a normal
// distribution with sd 2.5, about as peaked as a trained model's) for
// greedy, temperature alone, top-k, top-p and both, and, for comparison,
// the full sort of (id, probability) pairs the sampler did before partial
// selection. Compare with a decode step: bench/README.md.
//
//===----------------------------------------------------------------------===//

#include "runtime/generate/Sampler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace llamac::runtime;
using Clock = std::chrono::steady_clock;

int main(int argc, char **argv) {
  size_t vocab = 128256;
  int iterations = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--vocab")
      vocab = std::max(2l, std::atol(argv[i + 1]));
    else if (arg == "--iterations")
      iterations = std::max(1, std::atoi(argv[i + 1]));
  }
  std::mt19937 gen(1);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  std::vector<float> logits(vocab);
  for (float &l : logits)
    l = normal(gen);

  auto time = [&](const char *name, auto &&step) {
    step(); // warm-up
    Clock::time_point start = Clock::now();
    int64_t sink = 0;
    for (int i = 0; i < iterations; ++i)
      sink += step();
    double us = std::chrono::duration<double, std::micro>(Clock::now() - start)
                    .count() /
                iterations;
    std::printf("%-34s %9.1f us/token  (checksum %lld)\n", name, us,
                static_cast<long long>(sink));
  };
  struct Case {
    const char *name;
    SamplerOptions options;
  };
  for (Case c : {Case{"greedy", {0.0f, 0, 1.0f, 1}},
                 Case{"temperature 0.8", {0.8f, 0, 1.0f, 1}},
                 Case{"temperature 0.8, top-k 200", {0.8f, 200, 1.0f, 1}},
                 Case{"temperature 0.8, top-p 0.9", {0.8f, 0, 0.9f, 1}},
                 Case{"temperature 0.8, top-k 50, top-p 0.95",
                      {0.8f, 50, 0.95f, 1}},
                 Case{"temperature 1.5, top-p 0.99 (flat)",
                      {1.5f, 0, 0.99f, 1}}}) {
    Sampler sampler(c.options);
    time(c.name, [&] { return sampler.sample(logits); });
  }
  time("before: softmax + full sort", [&] {
    std::vector<std::pair<int64_t, double>> p(vocab);
    double max = *std::max_element(logits.begin(), logits.end()), sum = 0;
    for (size_t i = 0; i < vocab; ++i) {
      p[i] = {static_cast<int64_t>(i), std::exp((logits[i] - max) / 0.8)};
      sum += p[i].second;
    }
    std::sort(p.begin(), p.end(), [](auto &a, auto &b) {
      return a.second > b.second || (a.second == b.second && a.first < b.first);
    });
    return p[0].first;
  });
  return 0;
}
