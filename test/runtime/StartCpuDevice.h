//===- StartCpuDevice.h - a CPU device for driver tests ---------*- C++ -*-===//

#ifndef LLAMAC_TEST_RUNTIME_STARTCPUDEVICE_H
#define LLAMAC_TEST_RUNTIME_STARTCPUDEVICE_H

#include "runtime/hal/drivers/cpu/CpuDevice.h"

#include <gtest/gtest.h>

#include <memory>

namespace llamac::testing {

/// A CPU device with `threads` threads; fails the test (and returns null)
/// when the system refuses them.
inline std::unique_ptr<hal::cpu::CpuDevice> startCpuDevice(int threads) {
  absl::StatusOr<std::unique_ptr<hal::cpu::CpuDevice>> device =
      hal::cpu::CpuDevice::create(threads);
  EXPECT_TRUE(device.ok()) << device.status();
  return device.ok() ? std::move(*device) : nullptr;
}

} // namespace llamac::testing

#endif // LLAMAC_TEST_RUNTIME_STARTCPUDEVICE_H
