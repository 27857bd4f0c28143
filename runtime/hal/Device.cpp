//===- Device.cpp - checks every driver shares ----------------------------===//

#include "runtime/hal/Device.h"

#include "absl/strings/str_cat.h"

namespace llamac::hal {

absl::Status checkCopyRange(uint64_t size, uint64_t offset, uint64_t bytes) {
  uint64_t end;
  if (__builtin_add_overflow(offset, bytes, &end) || end > size)
    return absl::OutOfRangeError(
        absl::StrCat("copy of [", offset, ", +", bytes,
                     ") lies outside a buffer of ", size, " bytes"));
  return absl::OkStatus();
}

absl::Status forEachDispatch(
    const Program &program,
    absl::FunctionRef<absl::Status(const BoundDispatch &, int64_t layer)> launch) {
  for (const BoundDispatch &d : program.prologue)
    if (absl::Status s = launch(d, 0); !s.ok())
      return s;
  for (int64_t layer = 0; layer < program.layers; ++layer)
    for (const BoundDispatch &d : program.layerBody)
      if (absl::Status s = launch(d, layer); !s.ok())
        return s;
  for (const BoundDispatch &d : program.epilogue)
    if (absl::Status s = launch(d, 0); !s.ok())
      return s;
  return absl::OkStatus();
}

absl::Status gpuLaunchArgs(const BoundDispatch &d, int64_t layer, uint64_t posRowsAddress,
                           absl::string_view device, uint64_t (&slots)[kMaxKernelArgs]) {
  if (d.communicator)
    return absl::UnimplementedError(absl::StrCat(
        "a collective step is not a kernel: this ", device,
        " device does not run tensor-parallel schedules (the cuda and hip devices do, "
        "with NCCL or RCCL; docs/tensor-parallel.md)"));
  if (!d.deviceFunction)
    return absl::FailedPreconditionError(absl::StrCat(
        "kernel ", d.kernel, " has no ", device, " function (not bound for this device)"));
  if (d.range > 0)
    return absl::FailedPreconditionError(absl::StrCat(
        "kernel ", d.kernel, " has a CPU work range; ", device, " dispatches take launch dimensions"));
  if (d.args.size() > kMaxKernelArgs)
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", d.kernel, " takes too many arguments"));
  for (size_t i = 0; i < d.args.size(); ++i) {
    const ArgSource &a = d.args[i];
    const uint64_t base = reinterpret_cast<uint64_t>(a.base);
    switch (a.kind) {
    case ArgSource::Kind::Pointer:
      slots[i] = base;
      break;
    case ArgSource::Kind::LayerSlice:
      slots[i] = base + static_cast<uint64_t>(layer) * a.layerStride;
      break;
    case ArgSource::Kind::Layer:
      slots[i] = static_cast<uint64_t>(layer);
      break;
    case ArgSource::Kind::Pos:
      slots[i] = posRowsAddress;
      break;
    case ArgSource::Kind::Rows:
      slots[i] = posRowsAddress + sizeof(int64_t);
      break;
    }
  }
  return absl::OkStatus();
}

} // namespace llamac::hal
