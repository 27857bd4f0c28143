//===- Generation.h - options and results of text generation ----*- C++ -*-===//
//
// What `Session::generate` takes and returns: sampling options, the tokens
// and text produced, why it stopped, and its timings (the fields of
// `llama-run --json`).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_GENERATION_H
#define LLAMAC_RUNTIME_API_GENERATION_H

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace llamac {

struct GenerateOptions {
  int64_t maxNewTokens = 256;
  /// 0 = greedy.
  float temperature = 0.0f;
  /// 0 = no top-k.
  int64_t topK = 0;
  /// In (0, 1]; 1 = no nucleus truncation.
  float topP = 1.0f;
  /// Same seed, same options, same artifact -> same text.
  uint64_t seed = 0;
};

enum class StopReason { EndOfSequence, MaxNewTokens, MaxSeqLen, Interrupted };

/// "end_of_sequence", "max_new_tokens", "max_seq_len", "interrupted".
std::string_view stopReasonName(StopReason reason);

struct GenerateStats {
  /// Model::load and Session::create together.
  double loadMs = 0;
  /// From the start of `generate` (tokenizing included) to the first
  /// sampled token.
  double timeToFirstTokenMs = 0;
  int64_t prefillTokens = 0;
  double prefillMs = 0;
  double prefillTokensPerS = 0;
  /// Decode steps (one token each) and their time.
  int64_t decodeTokens = 0;
  double decodeMs = 0;
  double decodeTokensPerS = 0;
  /// Bytes of weights one decode step reads (Model::weightBytes).
  uint64_t weightBytes = 0;
  /// Bytes of every weight tensor in the artifact.
  uint64_t artifactWeightBytes = 0;
  /// (weightBytes + kvBytesPerDecodeStep) * decodeTokensPerS / 1e9: batch-1
  /// decode reads every weight and the live KV cache once per token.
  double decodeGBytesPerS = 0;
  /// Bytes of the KV cache allocated (K and V, for the run's positions).
  uint64_t kvCacheBytes = 0;
  /// Bytes of K and V attention read per decode step, averaged over the
  /// steps (it grows with the position).
  double kvBytesPerDecodeStep = 0;
};

struct GenerateResult {
  std::vector<int> promptTokens;    ///< BOS first
  std::vector<int> generatedTokens; ///< without the end-of-sequence token
  std::string text;                 ///< generated text only
  StopReason stopReason = StopReason::MaxNewTokens;
  GenerateStats stats;
};

/// Called once per generated token with the text that became printable
/// (possibly empty: part of a UTF-8 character is held back). Return false to
/// stop (stop reason "interrupted"). At the end, bytes still held back are
/// passed with token id -1 (the return value is then ignored).
using TokenCallback = std::function<bool(int tokenId, std::string_view text)>;

} // namespace llamac

#endif // LLAMAC_RUNTIME_API_GENERATION_H
