//===- FakeModel.h - a fake language model artifact -------------*- C++ -*-===//
//
// An artifact with the real llama2 tokenizer and the test kernel library
// (test_kernels.c) whose "model" predicts next = (sum of all tokens so far,
// read back from the KV cache at their positions) % vocab. Any mistake in
// chunking, padding, positions, cache binding or the logits row changes the
// token sequence.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_RUNTIME_FAKEMODEL_H
#define LLAMAC_TEST_RUNTIME_FAKEMODEL_H

#include "test/runtime/TestArtifact.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac::test {

inline constexpr int64_t kVocab = 32000;

struct FakeModelSpec {
  int64_t prefillTokens = 4; ///< 0: no prefill entry point
  int64_t maxSeqLen = 32;
  std::vector<int64_t> eos = {2};
  std::vector<std::string> cpuFeatures;
  std::string target = "cpu";
  std::string logitsKernel = "k_logits";
  /// > 1: split over that many tensor-parallel ranks (every rank's weights
  /// the same) with the output head split by vocabulary: the logits kernel
  /// writes a [tokens, vocab / ranks] part, its one-hot at sum % (vocab /
  /// ranks), which an all_gather_columns step gathers into the logits.
  int64_t splitHeadRanks = 1;
};

TestArtifact fakeModel(const FakeModelSpec &spec);

/// What the fake model generates greedily after `prompt` (at most `count`
/// tokens, stopping before an `eos` token).
std::vector<int> expectedTokens(const std::vector<int> &prompt, size_t count,
                                const std::vector<int64_t> &eos);

} // namespace llamac::test

#endif // LLAMAC_TEST_RUNTIME_FAKEMODEL_H
