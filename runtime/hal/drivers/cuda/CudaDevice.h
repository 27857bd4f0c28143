//===- CudaDevice.h - the CUDA driver ---------------------------*- C++ -*-===//
//
// NVIDIA GPUs through the CUDA driver API in libcuda.so.1, which is dlopen'ed
// when the device is opened (never linked): the GPU device logic of
// drivers/gpu over CudaDriverApi.h. Loads the artifact's cubin, or JITs its
// PTX when the cubin was built for another architecture.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CUDA_CUDADEVICE_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CUDA_CUDADEVICE_H

#include "runtime/hal/Device.h"

#include "absl/status/statusor.h"

#include <memory>

namespace llamac::hal::cuda {

/// The library opened; the environment variable LLAMAC_CUDA_DRIVER, when
/// set, names another path to it.
inline constexpr const char *kCudaDriverLibrary = "libcuda.so.1";

/// Opens CUDA device `ordinal`. Fails with a one-line reason when the
/// library is missing ("libcuda.so.1 not found (no NVIDIA driver on this
/// machine)"), the driver is too old, or there is no such device.
absl::StatusOr<std::unique_ptr<Device>> openCudaDevice(int ordinal = 0);

} // namespace llamac::hal::cuda

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CUDA_CUDADEVICE_H
