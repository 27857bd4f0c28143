//===- DeviceWeights.h - the artifact's weights on the device ---*- C++ -*-===//
//
// Every weight tensor as device memory the kernels can read. The CPU device
// reads them in place in the mapped artifact (no copy, so loading stays a
// page-in); a GPU device uploads each tensor once, at load.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_GENERATE_DEVICEWEIGHTS_H
#define LLAMAC_RUNTIME_GENERATE_DEVICEWEIGHTS_H

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/hal/Device.h"

#include "absl/status/statusor.h"

#include <memory>
#include <vector>

namespace llamac::runtime {

class DeviceWeights {
public:
  /// `metadata`'s weights must point into memory (their `data`) that
  /// outlives the result, as must `device`.
  static absl::StatusOr<std::unique_ptr<DeviceWeights>>
  upload(const ArtifactMetadata &metadata, hal::Device &device);

  /// The device address of weight `index` (into metadata.weights).
  void *address(int64_t index) const { return tensors[index]->data(); }
  size_t count() const { return tensors.size(); }

private:
  DeviceWeights() = default;
  std::vector<std::unique_ptr<hal::Buffer>> tensors;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_GENERATE_DEVICEWEIGHTS_H
