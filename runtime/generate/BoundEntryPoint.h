//===- BoundEntryPoint.h - an entry point ready to run ----------*- C++ -*-===//
//
// Joins an artifact entry point to memory and code: allocates its activation
// buffers and token buffer on the device, resolves its kernels in the
// device's loaded executable and binds weights and the KV cache, producing a
// hal::Program. Then each call is: copy the token ids in, replay, read the
// logits (in place on the CPU, copied back from a GPU).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_GENERATE_BOUNDENTRYPOINT_H
#define LLAMAC_RUNTIME_GENERATE_BOUNDENTRYPOINT_H

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/generate/DeviceWeights.h"
#include "runtime/generate/KVCache.h"
#include "runtime/hal/Device.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <functional>
#include <map>
#include <memory>

namespace llamac::comm {
class Communicator;
} // namespace llamac::comm

namespace llamac::runtime {

class BoundEntryPoint {
public:
  /// `kernels` (loaded on `device`), `weights`, `cache`, `device` and
  /// `communicator` must outlive the result. The decode entry point (one
  /// token) is marked for graph capture on GPU devices. A tensor-parallel
  /// schedule's all-reduce steps run on `communicator`, which it needs.
  static absl::StatusOr<std::unique_ptr<BoundEntryPoint>>
  bind(const EntryPoint &entryPoint, const ArtifactMetadata &metadata,
       const hal::Executable &kernels, const DeviceWeights &weights,
       KVCache &cache, hal::Device &device,
       comm::Communicator *communicator = nullptr);

  /// Static token count of one call.
  int64_t tokens() const { return entry.tokens; }
  const std::string &name() const { return entry.name; }
  /// Whether run() returns a row of logits per token (`logits_rows: "all"`)
  /// or only the last id's.
  bool allLogitRows() const { return entry.allLogitRows; }

  /// Runs on `ids` (1 .. tokens() of them; the rest are padded with token
  /// 0) at position `pos`. Every id must be in [0, vocab) and the call must
  /// fit the cache: pos + tokens() <= cache positions. Returns the logits,
  /// [tokens(), vocab] row-major, row i belonging to ids[i]; or, where
  /// allLogitRows() is false, [1, vocab], the last id's.
  absl::StatusOr<const float *> run(absl::Span<const int32_t> ids, int64_t pos);

  const hal::Program &program() const { return prog; }

  /// Called before each of this entry point's dispatches on a CPU device:
  /// the artifact's dispatch, the bound one (argument i holds binding i's
  /// host address), the layer and the call's rows.
  using DispatchObserver =
      std::function<void(const EntryPoint &, const Dispatch &, const hal::BoundDispatch &,
                         int64_t layer, const hal::Invocation &)>;
  /// Installs `observer` (an empty one removes it).
  void observe(DispatchObserver observer);

private:
  BoundEntryPoint(const EntryPoint &entry, int64_t vocab, KVCache &cache,
                  hal::Device &device)
      : entry(entry), vocab(vocab), cache(cache), device(device) {}

  EntryPoint entry;
  int64_t vocab;
  KVCache &cache;
  hal::Device &device;
  std::map<int64_t, std::unique_ptr<hal::Buffer>> buffers;
  std::unique_ptr<hal::Buffer> tokenBuffer;
  /// The ids of one call, padded with 0 to `tokens()`.
  std::vector<int32_t> paddedIds;
  /// The logits copied back, when the device's memory is not host-visible.
  std::vector<float> hostLogits;
  hal::Program prog;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_GENERATE_BOUNDENTRYPOINT_H
