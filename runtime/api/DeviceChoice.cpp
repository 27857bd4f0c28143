//===- DeviceChoice.cpp - which device runs an artifact -------------------===//

#include "runtime/api/DeviceChoice.h"
#include "runtime/hal/drivers/cpu/CpuDevice.h"
#include "runtime/hal/drivers/cpu/CpuInfo.h"
#include "runtime/hal/drivers/cuda/CudaDevice.h"
#include "runtime/hal/drivers/hip/HipDevice.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace llamac::runtime {

absl::string_view deviceForTarget(absl::string_view target) {
  if (target == "nvvm")
    return "cuda";
  if (target == "rocdl")
    return "hip";
  return "cpu";
}

absl::StatusOr<std::unique_ptr<hal::Device>>
openDeviceFor(const Artifact &artifact, const std::string &requested,
              int cpuThreads, int gpuOrdinal) {
  const std::string &target = artifact.target().name;
  const std::string needed(deviceForTarget(target));
  if (!requested.empty() && requested != "cpu" && requested != "cuda" &&
      requested != "hip")
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown --device '", requested, "' (expected cpu, cuda or hip)"));
  if (!requested.empty() && requested != needed)
    return absl::FailedPreconditionError(absl::StrCat(
        "--device ", requested, " cannot run ", artifact.path(),
        ": it was compiled for target '", target, "', which runs on --device ",
        needed));

  if (needed == "cpu") {
    if (absl::Status s = hal::cpu::checkCpuFeatures(
            artifact.path(), artifact.target().cpuFeatures);
        !s.ok())
      return s;
    int threads = cpuThreads > 0 ? cpuThreads
                                 : std::min(hal::cpu::defaultThreadCount(),
                                            hal::kMaxCpuThreads);
    absl::StatusOr<std::unique_ptr<hal::cpu::CpuDevice>> device =
        hal::cpu::CpuDevice::create(threads);
    if (!device.ok())
      return device.status();
    return std::unique_ptr<hal::Device>(std::move(*device));
  }
  absl::StatusOr<std::unique_ptr<hal::Device>> device =
      needed == "cuda" ? hal::cuda::openCudaDevice(gpuOrdinal)
                       : hal::hip::openHipDevice(gpuOrdinal);
  if (device.ok())
    return device;
  // Say which artifact asked for the device when the user did not.
  std::string who =
      requested.empty()
          ? absl::StrCat(artifact.path(), " (target '", target, "') needs --device ",
                         needed)
          : absl::StrCat("--device ", needed);
  return absl::Status(device.status().code(),
                      absl::StrCat(who, ": ", device.status().message()));
}

absl::Status checkDeviceRuns(const Artifact &artifact,
                             const hal::Device &device) {
  const std::string &target = artifact.target().name;
  const absl::string_view needed = deviceForTarget(target);
  if (device.name() != needed)
    return absl::FailedPreconditionError(absl::StrCat(
        "the shared ", device.name(), " device cannot run ", artifact.path(),
        ": it was compiled for target '", target, "', which runs on --device ",
        needed));
  if (needed == "cpu")
    return hal::cpu::checkCpuFeatures(artifact.path(),
                                      artifact.target().cpuFeatures);
  return absl::OkStatus();
}

} // namespace llamac::runtime
