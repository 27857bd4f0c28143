//===- GpuKernels.h - the kernel families of the GPU targets -----*- C++ -*-===//
//
// Each function builds the body of one gpu.func for one llama op and returns
// the static launch dimensions it was written for. `operands` maps the op's
// tensor operands to the kernel's memref arguments (and index operands to
// index values); `results` holds the memref each result is written to.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_GPU_GPUKERNELS_H
#define LLAMAC_PASSES_GPU_GPUKERNELS_H

#include "passes/gpu/GpuKernelBuilder.h"

namespace mlir::llama {

/// linear (with or without a residual), linear_group and gated_linear: one
/// subgroup per output feature streams its weight row(s) (GEMV).
FailureOr<GpuLaunchDims> emitGemvKernel(GpuKernelBuilder &kb, Operation *op,
                                        const IRMapping &operands, ArrayRef<Value> results);

/// rms_norm: one subgroup per row.
FailureOr<GpuLaunchDims> emitRMSNormKernel(GpuKernelBuilder &kb, Operation *op,
                                           const IRMapping &operands, ArrayRef<Value> results);

/// rope (one thread per element) and kv_write (the rows copied into the
/// cache at the position read on the device).
FailureOr<GpuLaunchDims> emitRopeKernel(GpuKernelBuilder &kb, Operation *op,
                                        const IRMapping &operands, ArrayRef<Value> results);
FailureOr<GpuLaunchDims> emitKVWriteKernel(GpuKernelBuilder &kb, Operation *op,
                                           const IRMapping &operands, ArrayRef<Value> results);

/// attention: one subgroup per (head, query row) with an online softmax over
/// the live cache prefix.
FailureOr<GpuLaunchDims> emitAttentionKernel(GpuKernelBuilder &kb, Operation *op,
                                             const IRMapping &operands, ArrayRef<Value> results);

/// embedding (a row gather) and the elementwise ops (add, mul, silu, swiglu).
FailureOr<GpuLaunchDims> emitEmbeddingKernel(GpuKernelBuilder &kb, Operation *op,
                                             const IRMapping &operands, ArrayRef<Value> results);
FailureOr<GpuLaunchDims> emitElementwiseKernel(GpuKernelBuilder &kb, Operation *op,
                                               const IRMapping &operands, ArrayRef<Value> results);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_GPU_GPUKERNELS_H
