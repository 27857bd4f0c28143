//===- DeviceChoice.h - which device runs an artifact -----------*- C++ -*-===//
//
// An artifact's target decides its device: cpu artifacts run on the cpu
// device, nvvm on cuda, rocdl on hip. `--device` may name it explicitly; a
// device that cannot run the artifact, or whose driver library is missing,
// is a one-line error before anything is allocated.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_DEVICECHOICE_H
#define LLAMAC_RUNTIME_API_DEVICECHOICE_H

#include "runtime/artifact/Artifact.h"
#include "runtime/hal/Device.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <memory>
#include <string>

namespace llamac::runtime {

/// "cpu", "cuda" or "hip" for targets "cpu", "nvvm" and "rocdl".
absl::string_view deviceForTarget(absl::string_view target);

/// Opens the device that runs `artifact`: `requested` ("cpu", "cuda", "hip";
/// "" = the one its target needs) must be that device. `cpuThreads` sizes
/// the cpu device's pool (0 = physical cores). Errors, e.g. "--device cuda:
/// libcuda.so.1 not found (no NVIDIA driver on this machine)".
absl::StatusOr<std::unique_ptr<hal::Device>>
openDeviceFor(const Artifact &artifact, const std::string &requested,
              int cpuThreads, int gpuOrdinal = 0);

/// Checks that `device`, already open (shared with another model), can run
/// `artifact`: it is the device its target needs and, for a cpu artifact,
/// this CPU has the features its kernels use.
absl::Status checkDeviceRuns(const Artifact &artifact,
                             const hal::Device &device);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_API_DEVICECHOICE_H
