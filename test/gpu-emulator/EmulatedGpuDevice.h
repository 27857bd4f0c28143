//===- EmulatedGpuDevice.h - a device interpreting GPU kernels -*- C++ -*-===//
//
// A test-only hal::Device for an nvvm or rocdl artifact on a machine with no
// GPU. Memory is host memory that the runtime still treats as device memory
// (hostData() is null, so weights are uploaded and logits copied back as on
// a GPU). The kernels are not the artifact's code object, which it ignores,
// but their MLIR as llamac prints it after the "gpu" phase (`llamac compile
// ... --dump-ir-after gpu`), read from a file given at construction; each
// dispatch runs its gpu.func in the SIMT interpreter (SimtInterpreter.h)
// with the arguments the CUDA and HIP drivers pass (GpuDevice.cpp): device
// addresses, the layer by value, and `pos` and `rows` by the address of an
// int64 in a {pos, rows} buffer.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_GPU_EMULATOR_EMULATEDGPUDEVICE_H
#define LLAMAC_TEST_GPU_EMULATOR_EMULATEDGPUDEVICE_H

#include "runtime/hal/Device.h"

#include <memory>
#include <string>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace llamac::emu {

class EmulatedGpuDevice : public hal::Device {
public:
  /// `target` is "nvvm" (32-lane subgroups, loads "cubin" artifacts) or
  /// "rocdl" (64 lanes, "hsaco"); `kernelsIrPath` is a text MLIR file
  /// holding the artifact's `gpu.module @llamac_kernels`. Neither is
  /// checked until loadExecutable. Executables loaded here must not
  /// outlive the device (they live in its MLIRContext).
  EmulatedGpuDevice(std::string target, std::string kernelsIrPath);
  ~EmulatedGpuDevice() override;

  /// "emulated-nvvm" or "emulated-rocdl": nothing in the runtime keys on a
  /// GPU device's name, and the bandwidth probe must not take it for a GPU.
  std::string name() const override { return "emulated-" + target; }
  int concurrency() const override { return 1; }
  absl::StatusOr<std::unique_ptr<hal::Buffer>>
  allocate(uint64_t bytes) override;
  /// A copy, like the GPU drivers' upload.
  absl::StatusOr<std::unique_ptr<hal::Buffer>>
  importConstant(const void *host, uint64_t bytes) override;
  absl::Status copyToDevice(hal::Buffer &dst, uint64_t offset, const void *src,
                            uint64_t bytes) override;
  absl::Status copyToHost(void *dst, hal::Buffer &src, uint64_t offset,
                          uint64_t bytes) override;
  /// Checks the format ("cubin" for nvvm, "hsaco" for rocdl), ignores the
  /// code and parses the kernels' IR file; each kernel's handle is its
  /// gpu.func.
  absl::StatusOr<std::unique_ptr<hal::Executable>>
  loadExecutable(const hal::ExecutableSource &source) override;
  /// Interprets every dispatch in order: prologue, the layer body once per
  /// layer, epilogue. `captureAsGraph` is ignored.
  absl::Status run(const hal::Program &program,
                   const hal::Invocation &invocation) override;

  /// Lanes per subgroup: 32 (nvvm) or 64 (rocdl).
  int subgroupSize() const { return target == "rocdl" ? 64 : 32; }

private:
  absl::Status launch(const hal::BoundDispatch &dispatch, int64_t layer);

  std::string target;
  std::string kernelsIrPath;
  std::unique_ptr<mlir::MLIRContext> context;
  /// The {pos, rows} "device" buffer the kernels read by address.
  int64_t posRows[2] = {0, 1};
};

} // namespace llamac::emu

#endif // LLAMAC_TEST_GPU_EMULATOR_EMULATEDGPUDEVICE_H
