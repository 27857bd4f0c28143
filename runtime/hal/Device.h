//===- Device.h - the runtime's hardware abstraction ------------*- C++ -*-===//
//
// What the generation loop needs from a device: memory and a way to replay a
// bound dispatch schedule. Drivers live in runtime/hal/drivers/<name>/ with
// the same file names in each (cpu today; cuda and hip load their driver
// libraries with dlopen when they come).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DEVICE_H
#define LLAMAC_RUNTIME_HAL_DEVICE_H

#include "runtime/hal/Program.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llamac::hal {

/// Device memory. Host-visible on the CPU driver.
class Buffer {
public:
  virtual ~Buffer() = default;
  /// The device address the kernels receive.
  virtual void *data() = 0;
  virtual uint64_t size() const = 0;
  /// Host access: the CPU driver returns `data()`. Drivers without host
  /// mapped memory will add explicit copies.
  virtual void *hostData() { return data(); }
};

class Device {
public:
  virtual ~Device() = default;
  /// "cpu", "cuda", ...
  virtual std::string name() const = 0;
  /// Worker threads (CPU) used to run ranged dispatches.
  virtual int concurrency() const = 0;
  /// `bytes` of zero-initialised memory, aligned to at least 64 bytes.
  virtual absl::StatusOr<std::unique_ptr<Buffer>> allocate(uint64_t bytes) = 0;
  /// Runs `program` to completion.
  virtual absl::Status run(const Program &program,
                           const Invocation &invocation) = 0;
};

} // namespace llamac::hal

#endif // LLAMAC_RUNTIME_HAL_DEVICE_H
