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
#include <optional>
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
  /// In [0, 1]: drop tokens less likely than minP times the most likely
  /// (runtime::SamplerOptions::minP); 0 = none.
  float minP = 0.0f;
  /// Same seed, same options, same artifact -> same text.
  uint64_t seed = 0;
  /// Ids that end generation besides the model's end-of-sequence ids (a
  /// chat template's end of turn, ChatTemplate::stopIds).
  std::vector<int> stopTokens;
};

enum class StopReason { EndOfSequence, MaxNewTokens, MaxSeqLen, Interrupted };

/// "end_of_sequence", "max_new_tokens", "max_seq_len", "interrupted".
std::string_view stopReasonName(StopReason reason);

/// What speculative decoding did in one generation (SpeculativeDecoder;
/// `llama-run --json`'s stats.speculative).
struct SpeculativeStats {
  /// The draft artifact's path, or "prompt-lookup".
  std::string draft;
  /// Draft tokens a round proposes at most.
  int64_t k = 0;
  /// Draft tokens proposed and accepted, over all rounds.
  int64_t proposed = 0;
  int64_t accepted = 0;
  /// accepted / proposed; 0 when nothing was proposed.
  double acceptanceRate = 0;
  /// Forward passes of the target model after the prompt: one per round (a
  /// verify pass, or a decode step where nothing was drafted).
  int64_t targetPasses = 0;
  /// [m]: the rounds that accepted m of their draft tokens, m = 0 .. k
  /// (rounds that drafted nothing are not counted).
  std::vector<int64_t> acceptedHistogram;
};

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
  /// Set by speculative decoding. Its decode counts and rates are still per
  /// generated token (decodeGBytesPerS is then an effective figure: each
  /// token as if one step had read the weights for it).
  std::optional<SpeculativeStats> speculative;
};

struct GenerateResult {
  /// BOS first (unless the artifact's tokenizer.prompt_without_bos); for
  /// Session::continueWith, the tokens it appended.
  std::vector<int> promptTokens;
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
