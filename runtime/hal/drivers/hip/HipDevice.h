//===- HipDevice.h - the HIP driver -----------------------------*- C++ -*-===//
//
// AMD GPUs through HIP in libamdhip64.so, which is dlopen'ed when the device
// is opened (never linked): the GPU device logic of drivers/gpu over
// HipDriverApi.h. Loads the artifact's HSACO code object.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_HIP_HIPDEVICE_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_HIP_HIPDEVICE_H

#include "runtime/hal/Device.h"

#include "absl/status/statusor.h"

#include <memory>

namespace llamac::hal::hip {

/// The library opened (then its ROCm 7, 6 and 5 sonames: without the -dev
/// package, Debian 12's libamdhip64-5 has only libamdhip64.so.5); the
/// environment variable LLAMAC_HIP_DRIVER, when set, names another path.
inline constexpr const char *kHipDriverLibrary = "libamdhip64.so";

/// Opens HIP device `ordinal`. Fails with a one-line reason when the
/// library is missing ("libamdhip64.so not found (no ROCm HIP runtime on
/// this machine)"), too old, or there is no such device.
absl::StatusOr<std::unique_ptr<Device>> openHipDevice(int ordinal = 0);

} // namespace llamac::hal::hip

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_HIP_HIPDEVICE_H
