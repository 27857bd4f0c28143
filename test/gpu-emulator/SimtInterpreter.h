//===- SimtInterpreter.h - runs gpu.func kernels on the host -----*- C++ -*-===//
//
// A test-only interpreter for the kernels llama-lower-to-gpu writes (the IR
// of llamac's "gpu" phase: gpu.func bodies of arith, math, memref, vector,
// scf, gpu ops and the matrix-unit ops nvvm.mma.sync / amdgpu.mfma). It
// runs every thread of a block in lockstep, one op at a time for all lanes,
// with a mask for the lanes that structured control flow (scf.if, scf.for
// with per-lane bounds) has switched off. That is the SIMT model the
// kernels are written for: shuffles exchange values between the lanes of a
// subgroup, a matrix-unit op multiplies the fragments its subgroup's lanes
// hold (laid out as the PTX ISA and AMD's CDNA ISA specify), and a barrier
// is a point every thread reaches together.
//
// It lets the GPU kernels be checked numerically against the CPU path on a
// machine without a GPU; it says nothing about their speed.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_GPU_EMULATOR_SIMTINTERPRETER_H
#define LLAMAC_TEST_GPU_EMULATOR_SIMTINTERPRETER_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include "absl/status/status.h"
#include "llvm/ADT/ArrayRef.h"

#include <array>
#include <cstdint>

namespace llamac::emu {

/// One kernel parameter: memrefs are bare pointers to identity-layout
/// buffers of the static type in the kernel's signature; index and integer
/// parameters are values.
struct KernelArg {
  void *pointer = nullptr;
  int64_t value = 0;
};

/// Runs `kernel` over `grid` blocks of `block` threads with `args` in its
/// parameter order. `subgroupSize` is the lanes a shuffle or matrix-unit op
/// spans (32 for NVVM, 64 for ROCDL). An error for an op it does not know,
/// a shape it cannot run, or an out-of-bounds access (which the hardware
/// would not report).
absl::Status runKernel(mlir::gpu::GPUFuncOp kernel, std::array<uint32_t, 3> grid,
                       std::array<uint32_t, 3> block, llvm::ArrayRef<KernelArg> args,
                       int subgroupSize);

} // namespace llamac::emu

#endif // LLAMAC_TEST_GPU_EMULATOR_SIMTINTERPRETER_H
