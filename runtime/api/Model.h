//===- Model.h - a compiled model loaded on a device ------------*- C++ -*-===//
//
// The runtime's embedding API, in two halves (docs/runtime-api.md):
//
//  - A Model is what a compiled artifact makes immutable on a device: the
//    mapped artifact, the tokenizer, the kernels and the weights. It is
//    shared (`std::shared_ptr<const Model>`) and safe to use from several
//    threads at once; nothing in it changes after `load`.
//  - A Session (Session.h) is one sequence being run: the KV cache, the
//    position, the activation buffers and the entry points bound to them.
//    A model has any number of sessions; each keeps its model alive.
//
// Models share a device by passing one model's `sharedDevice()` to the next
// `load` (a speculative-decoding target and draft, say), so that every
// session of every one of them runs on one device and one CPU thread pool.
//
//   auto model = llamac::Model::load("stories15M.llamac");
//   auto session = llamac::Session::create(*model);
//   auto result = (*session)->generate("Once upon a time", {},
//       [](int id, std::string_view text) { fwrite(...); return true; });
//
// No MLIR or LLVM anywhere below this header.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_MODEL_H
#define LLAMAC_RUNTIME_API_MODEL_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace llamac {

class Session;
class Tokenizer;
namespace hal {
class Device;
} // namespace hal
namespace comm {
class Communicator;
} // namespace comm
namespace runtime {
class Artifact;
struct ModelInfo;
} // namespace runtime

struct ModelOptions {
  /// Threads for ranged kernels, at most hal::kMaxCpuThreads (256); 0 =
  /// the number of physical cores (capped the same way).
  int threads = 0;
  /// The default length (prompt + generated) of this model's sessions;
  /// 0 = the artifact's model.max_seq_len, which is also the upper bound. A
  /// session's KV cache is allocated for its length (at least one prefill
  /// chunk).
  int64_t maxSeqLen = 0;
  /// "cpu", "cuda" or "hip"; "" = the device the artifact's target needs
  /// (cpu for cpu, cuda for nvvm, hip for rocdl). Naming another is an
  /// error.
  std::string device;
  /// An open device to load onto instead of opening a new one: another
  /// model's `sharedDevice()`. It must be the kind the artifact's target
  /// runs on; `device` and (on the CPU) `threads`, when set, must agree
  /// with it.
  std::shared_ptr<hal::Device> sharedDevice;
  /// Check every weight tensor against its checksum before loading
  /// (`llama-run --verify`): reads all the weights once, which costs what
  /// paging them in from disk costs (docs/artifact-format.md). The header,
  /// metadata, tokenizer and kernels are checked always.
  bool verifyWeights = false;
  /// The ranks of a tensor-parallel run (docs/tensor-parallel.md): this
  /// process loads its rank's weights and runs the schedule's all-reduce
  /// steps on it. A tensor-parallel artifact needs one whose size is its
  /// rank count (`mpirun -np N`); null = a single process.
  /// On a GPU device, its all-reduces run on NCCL (cuda) or RCCL (hip),
  /// which Model::load starts over this communicator (MPI, the bootstrap).
  std::shared_ptr<comm::Communicator> communicator;
  /// The GPU a cuda or hip device opens: each rank of a tensor-parallel run
  /// its own (llama-run: the rank's local rank on its host).
  int gpuOrdinal = 0;
  /// Why this model must run whole in one process ("--chat runs in one
  /// process"), or empty. When set, a tensor-parallel artifact is refused
  /// with it, instead of with the advice to launch one process per rank,
  /// which such a caller cannot take.
  std::string singleProcessReason;
};

class Model {
public:
  /// Maps and validates the artifact, opens the device its target needs
  /// (checking the CPU's features, or loading the GPU driver library) or
  /// takes `options.sharedDevice`, loads the tokenizer and kernels and puts
  /// the weights on the device. Sessions (Session::create) then run it.
  static absl::StatusOr<std::shared_ptr<const Model>>
  load(const std::string &artifactPath, const ModelOptions &options = {});
  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  const runtime::ModelInfo &info() const;
  const runtime::Artifact &artifact() const;
  const Tokenizer &tokenizer() const;
  /// The device's parallelism: CPU threads, 1 on a GPU.
  int threads() const;
  /// The default session length (ModelOptions::maxSeqLen, or the
  /// artifact's).
  int64_t maxSeqLen() const;
  double loadMs() const;
  /// The kernels prefill's projections run on (runtime/api/PrefillKernels.h):
  /// "amx" where an artifact's AMX variants run, "vdpbf16ps" where they fall
  /// back, ...
  const std::string &prefillKernels() const;
  /// The KV cache's element type ("f32", "bf16", "int8"): what reports
  /// call `model.kv_dtype`.
  std::string_view kvDtype() const;
  /// Bytes of weights one decode step reads (what `weight_bytes` means in
  /// every report: the embedding table counts as the one row it gathers
  /// unless a tied classifier reads it whole).
  uint64_t weightBytes() const;
  /// The communicator of a tensor-parallel model, or null.
  comm::Communicator *communicator() const;
  /// The tensor-parallel rank this process runs (0 when not split) and the
  /// number of ranks (1).
  int64_t rank() const;
  int64_t ranks() const;
  /// Bytes of every weight tensor in the artifact (this rank's table).
  uint64_t artifactWeightBytes() const;
  /// The device the weights live on and sessions run on; safe to use from
  /// several threads (runtime/hal/Device.h). `llama-run bench` runs its
  /// memory bandwidth probe on it (on the CPU, with the model's threads).
  hal::Device &device() const;
  /// The same device, for `ModelOptions::sharedDevice` of another model.
  std::shared_ptr<hal::Device> sharedDevice() const;

private:
  friend class Session;
  struct State;
  explicit Model(std::unique_ptr<State> state);
  /// Everything `load` does on this rank alone.
  static absl::StatusOr<std::unique_ptr<State>> loadState(const std::string &artifactPath,
                                                          const ModelOptions &options);
  std::unique_ptr<State> state;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_API_MODEL_H
