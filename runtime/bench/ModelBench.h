//===- ModelBench.h - prefill, decode and bandwidth of a model --*- C++ -*-===//
//
// What `llama-run bench` measures, as a library: prefill speed at several
// prompt lengths, time to first token, greedy decode speed, the bytes a
// decode step reads and, in the same run on the same threads, the machine's
// read bandwidth, so that decode can be stated as a fraction of what the
// memory allows (docs/architecture.md, "What "fast" means here").
//
// Inputs are synthetic token ids (a fixed pseudo-random sequence), so runs
// are repeatable and need no tokenizer; timings start at the token ids.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_BENCH_MODELBENCH_H
#define LLAMAC_RUNTIME_BENCH_MODELBENCH_H

#include "runtime/api/Session.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/artifact/DecodeTraffic.h"
#include "runtime/bench/KernelProfile.h"
#include "runtime/bench/ReadProbe.h"
#include "runtime/bench/SpeculativeBench.h"
#include "runtime/bench/Summary.h"
#include "runtime/bench/VerifyCost.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llamac::bench {

struct BenchOptions {
  /// Prefill lengths, each clipped to the model's max sequence length
  /// (duplicates after clipping are measured once). The first one also
  /// gives the time to first token.
  std::vector<int64_t> promptTokens = {128, 512};
  /// Greedy decode steps per decode measurement, clipped so that they fit
  /// after the decode prompt.
  int64_t newTokens = 128;
  /// The short prompt decode starts after.
  int64_t decodePromptTokens = 16;
  /// Timed runs of each measurement, after one untimed warm-up run.
  int repeats = 5;
  /// Read probe buffer size; 0 = at least 1 GiB (defaultProbeBytes).
  uint64_t probeBytes = 0;
  /// Called with a short line before each measurement; may be empty.
  std::function<void(std::string_view)> progress;
  /// When set (its target is the benchmarked session), greedy decoding of
  /// newTokens after a repetitive prompt, plainly and with speculation.
  SpeculativeDecoder *speculative = nullptr;
  /// The repetitive prompt: copies of a segment of this many tokens.
  int64_t repetitiveSegmentTokens = 32;
  int repetitiveCopies = 3;
  /// Prompt lookup: runs with the plain output as the lookup reference,
  /// every N-th token changed (0: none); see measureSpeculative.
  std::vector<int64_t> lookupReferenceEvery;
  /// Then also each kernel's time in a prefill of the first prompt length
  /// and in the decode steps (KernelProfile.h; CPU devices only).
  bool profile = false;
};

struct PrefillMeasurement {
  int64_t tokens = 0;
  Summary tokensPerS;
  Summary ms;
};

/// What the collectives of a tensor-parallel decode cost this rank (rank
/// 0's are reported): time inside the communicator, which includes waiting
/// for the slowest rank.
struct TensorParallelCost {
  int64_t ranks = 1;
  std::string communicator;
  /// All-reduces (two per layer) and their bytes per decode step.
  double allReducesPerStep = 0;
  double bytesPerStep = 0;
  Summary allReduceMsPerStep;
  /// All-reduce time / decode time, per run.
  Summary allReduceShare;
  /// All-gathers (one, of the logits, when the output head is split by
  /// vocabulary) and their output bytes per decode step, and their time.
  double allGathersPerStep = 0;
  double gatherBytesPerStep = 0;
  Summary allGatherMsPerStep;
  /// All-gather time / decode time, per run.
  Summary allGatherShare;
  /// False for a GPU communicator (NCCL, RCCL): its collectives run inside
  /// the captured decode graph, so neither their time nor their count is
  /// seen one by one; the counts and bytes then come from the schedule.
  bool timed = true;
};

struct BenchResult {
  std::string artifact;
  int threads = 0;
  int repeats = 0;
  runtime::ModelInfo model;
  std::string chip;
  /// The KV cache's element type ("f32", "bf16", "f16").
  std::string kvDtype;
  /// bf16 linear layers use vdpbf16ps on bf16-rounded activations.
  bool bf16Dot = false;
  /// quantized linear layers use vpdpbusd on byte activations.
  bool intDot = false;
  /// The kernels prefill's projections ran on ("amx", "vdpbf16ps", ...).
  std::string prefillKernels;
  runtime::DecodeTraffic traffic;

  std::vector<PrefillMeasurement> prefill;
  /// Prefill of the first prompt length plus choosing the first token.
  Summary timeToFirstTokenMs;
  int64_t timeToFirstTokenPromptTokens = 0;

  int64_t decodePromptTokens = 0;
  int64_t decodeTokens = 0;
  Summary decodeTokensPerS;
  /// (traffic.weightBytesPerStep + kvCacheBytesPerStep) * decode tok/s /
  /// 1e9, per run: a step reads its weights and the live KV cache.
  Summary decodeGBytesPerS;
  /// Cached positions a decode step attends over, averaged over the steps.
  double decodeAverageContext = 0;
  /// K and V bytes a step reads at that average context.
  double kvCacheBytesPerStep = 0;
  /// Bytes of the KV cache allocated for the run (K and V).
  uint64_t kvCacheBytes = 0;

  /// A verify pass of the artifact's k + 1 tokens against one decode step
  /// after the decode prompt; absent without a verify entry point.
  std::optional<VerifyCost> verifyCost;
  /// Tensor-parallel models only.
  std::optional<TensorParallelCost> tensorParallel;
  /// With BenchOptions::speculative.
  std::optional<SpeculativeBenchResult> speculative;
  /// With BenchOptions::profile: prefill, then decode.
  std::vector<KernelProfile> profiles;

  ReadProbeResult probe;
  Summary readGBytesPerS;
  /// decodeGBytesPerS.median / readGBytesPerS.median.
  double bandwidthFraction = 0;
};

/// `count` token ids: `bos`, then a fixed pseudo-random sequence in
/// [3, vocab) (ids 0-2 are unk/bos/eos in llama tokenizers; [0, vocab) when
/// the vocabulary is smaller than 4).
std::vector<int32_t> syntheticTokens(int64_t count, int64_t vocab, int64_t bos);

/// Runs every measurement in `session` (which it leaves holding an
/// arbitrary sequence) and the read probe on its model's device.
absl::StatusOr<BenchResult> runBench(Session &session,
                                     const BenchOptions &options);

} // namespace llamac::bench

#endif // LLAMAC_RUNTIME_BENCH_MODELBENCH_H
