//===- Model.h - load a compiled model and generate text --------*- C++ -*-===//
//
// The runtime's embedding API; llama-run is a thin user of it. A Model owns
// the mapped artifact, the tokenizer, the device, the KV cache and the bound
// entry points. No MLIR or LLVM anywhere below this header.
//
//   auto model = llamac::Model::load("stories15M.llamac", {});
//   auto result = (*model)->generate("Once upon a time", {},
//       [](int id, std::string_view text) { fwrite(...); return true; });
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_MODEL_H
#define LLAMAC_RUNTIME_API_MODEL_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llamac {

class Tokenizer;
namespace hal {
class Device;
} // namespace hal
namespace runtime {
class Artifact;
struct ModelInfo;
} // namespace runtime

struct ModelOptions {
  /// Threads for ranged kernels; 0 = the number of physical cores.
  int threads = 0;
  /// Longest sequence (prompt + generated); 0 = the artifact's
  /// model.max_seq_len, which is also the upper bound. The KV cache is
  /// allocated for this many positions (at least one prefill chunk).
  int64_t maxSeqLen = 0;
  /// "cpu", "cuda" or "hip"; "" = the device the artifact's target needs
  /// (cpu for cpu, cuda for nvvm, hip for rocdl). Naming another is an
  /// error.
  std::string device;
};

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
  uint64_t weightBytes = 0;
  /// weightBytes * decodeTokensPerS / 1e9: batch-1 decode reads every
  /// weight once per token.
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

class Model {
public:
  /// Maps and validates the artifact, opens the device its target needs
  /// (checking the CPU's features, or loading the GPU driver library), loads
  /// the tokenizer and kernels, puts the weights and the KV cache on the
  /// device and binds the entry points.
  static absl::StatusOr<std::unique_ptr<Model>>
  load(const std::string &artifactPath, const ModelOptions &options = {});
  ~Model();

  /// Generates a continuation of `prompt` (encoded with BOS). Each call
  /// starts a new sequence at position 0.
  absl::StatusOr<GenerateResult> generate(std::string_view prompt,
                                          const GenerateOptions &options,
                                          const TokenCallback &callback = {});

  /// Runs `tokens` at positions `pos, pos+1, ...` (prefill chunks, or the
  /// decode graph for a single token) and returns the logits after the last
  /// one. The KV cache keeps what earlier calls wrote below `pos`, so feeding
  /// a sequence one token at a time equals feeding it at once.
  absl::StatusOr<std::vector<float>> forward(const std::vector<int32_t> &tokens,
                                             int64_t pos);

  const runtime::ModelInfo &info() const;
  const runtime::Artifact &artifact() const;
  const Tokenizer &tokenizer() const;
  int threads() const;
  int64_t maxSeqLen() const;
  double loadMs() const;
  uint64_t weightBytes() const;
  /// Bytes of the KV cache this model allocated (K and V).
  uint64_t kvCacheBytes() const;
  /// The device the entry points run on. `llama-run bench` runs its memory
  /// bandwidth probe on it (on the CPU, with the model's own threads).
  hal::Device &device();

private:
  struct State;
  explicit Model(std::unique_ptr<State> state);
  /// Runs ids at pos.. and returns the logits row of the last one.
  absl::StatusOr<const float *> runPrompt(const std::vector<int32_t> &ids,
                                          int64_t pos);
  std::unique_ptr<State> state;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_API_MODEL_H
