//===- LoadedModel.h - a compiled model loaded on a HAL device ---*- C++ -*-===//
//
// What the driver tests need to run an artifact's entry points on one
// device directly, below the Model API: its kernels, weights and KV cache
// on that device. Shared by the driver conformance suite and the SIMT
// emulator's suite.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_RUNTIME_LOADEDMODEL_H
#define LLAMAC_TEST_RUNTIME_LOADEDMODEL_H

#include "runtime/artifact/Artifact.h"
#include "runtime/generate/BoundEntryPoint.h"
#include "runtime/generate/DeviceWeights.h"
#include "runtime/generate/KVCache.h"
#include "runtime/hal/Device.h"

#include <algorithm>
#include <memory>
#include <string>

namespace llamac::test {

struct LoadedModel {
  std::unique_ptr<runtime::Artifact> artifact;
  std::unique_ptr<hal::Executable> kernels;
  std::unique_ptr<runtime::DeviceWeights> weights;
  std::unique_ptr<runtime::KVCache> cache;

  /// The artifact's entry point `name` ("prefill", "decode") bound on
  /// `device` (the one it was loaded on).
  absl::StatusOr<std::unique_ptr<runtime::BoundEntryPoint>> bind(const std::string &name,
                                                                 hal::Device &device) {
    return runtime::BoundEntryPoint::bind(*artifact->entryPoint(name), artifact->metadata(),
                                          *kernels, *weights, *cache, device);
  }
};

/// The artifact at `path` loaded on `device`.
inline absl::StatusOr<LoadedModel> loadModel(hal::Device &device, const std::string &path) {
  LoadedModel m;
  absl::StatusOr<std::unique_ptr<runtime::Artifact>> a = runtime::Artifact::open(path);
  if (!a.ok())
    return a.status();
  m.artifact = std::move(*a);
  hal::ExecutableSource source{m.artifact->metadata().kernels.kind, m.artifact->kernelBytes(),
                               m.artifact->kernelPtxBytes(), path};
  absl::StatusOr<std::unique_ptr<hal::Executable>> kernels = device.loadExecutable(source);
  if (!kernels.ok())
    return kernels.status();
  m.kernels = std::move(*kernels);
  auto weights = runtime::DeviceWeights::upload(m.artifact->metadata(), device);
  if (!weights.ok())
    return weights.status();
  m.weights = std::move(*weights);
  // Every position of the context; a ring's slots are fewer.
  auto cache = runtime::KVCache::allocate(
      device, m.artifact->kvCache(),
      std::max(m.artifact->kvCache().positions, m.artifact->model().maxSeqLen));
  if (!cache.ok())
    return cache.status();
  m.cache = std::move(*cache);
  return m;
}

} // namespace llamac::test

#endif // LLAMAC_TEST_RUNTIME_LOADEDMODEL_H
