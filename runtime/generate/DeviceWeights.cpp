//===- DeviceWeights.cpp - the artifact's weights on the device -----------===//

#include "runtime/generate/DeviceWeights.h"

#include "absl/strings/str_cat.h"

namespace llamac::runtime {

absl::StatusOr<std::unique_ptr<DeviceWeights>>
DeviceWeights::upload(const ArtifactMetadata &meta, hal::Device &device) {
  std::unique_ptr<DeviceWeights> weights(new DeviceWeights());
  for (const WeightInfo &w : meta.weights) {
    if (!w.data)
      return absl::FailedPreconditionError(
          absl::StrCat("weight '", w.name, "' is not in memory"));
    absl::StatusOr<std::unique_ptr<hal::Buffer>> buffer =
        device.importConstant(w.data, w.size);
    if (!buffer.ok())
      return absl::Status(buffer.status().code(),
                          absl::StrCat("weight '", w.name,
                                       "': ", buffer.status().message()));
    weights->tensors.push_back(std::move(*buffer));
  }
  return weights;
}

} // namespace llamac::runtime
