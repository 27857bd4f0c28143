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

#include "dialects/llama/LlamaOps.h"
#include "passes/gpu/GpuKernelBuilder.h"

namespace mlir::llama {

/// Any projection (ProjectionOpInterface: linear with or without a residual,
/// linear_group, gated_linear): one subgroup per output feature streams its
/// weight row(s) (GEMV), with the fused RMSNorm, if any, folded into its dot
/// products.
FailureOr<GpuLaunchDims> emitGemvKernel(GpuKernelBuilder &kb, Operation *op,
                                        const IRMapping &operands, ArrayRef<Value> results);

/// Whether a projection runs as a matrix-unit GEMM: the target allows it,
/// the weights are bf16 or quantized (int8/int4, dequantized to bf16 as
/// they are read: WeightStream.h), the activations f32 with a depth the
/// unit's k divides, and there are at least a tile's rows of tokens (a
/// prefill chunk).
bool fitsMatrixUnits(const GpuTargetInfo &target, Operation *op, const IRMapping &operands);
/// The same ops as a GEMM on the matrix units (mma.sync, MFMA): blocks of
/// subgroups that each compute a tokens × features tile.
FailureOr<GpuLaunchDims> emitMatrixUnitGemmKernel(GpuKernelBuilder &kb, Operation *op,
                                                  const IRMapping &operands,
                                                  ArrayRef<Value> results);

/// rms_norm: one subgroup per row (when not fused into a GEMV).
FailureOr<GpuLaunchDims> emitRMSNormKernel(GpuKernelBuilder &kb, Operation *op,
                                           const IRMapping &operands, ArrayRef<Value> results);

/// rope (one thread per element) and kv_write (the rows copied into the
/// cache at the position read on the device, rotated first when a RoPE was
/// fused into it).
FailureOr<GpuLaunchDims> emitRopeKernel(GpuKernelBuilder &kb, Operation *op,
                                        const IRMapping &operands, ArrayRef<Value> results);
FailureOr<GpuLaunchDims> emitKVWriteKernel(GpuKernelBuilder &kb, Operation *op,
                                           const IRMapping &operands, ArrayRef<Value> results);

/// Element (n, h, d) of RoPE applied to x ([tokens, heads, head_dim]) at
/// position pos + n: the one formula the rope, cache-write and attention
/// kernels share.
Value emitRopeElement(GpuKernelBuilder &kb, RopeOp rope, Value x, Value pos, Value n, Value h,
                      Value d);

/// attention: one block per (head, query row) whose subgroups split the live
/// cache prefix, each with an online softmax, merged through shared memory.
FailureOr<GpuLaunchDims> emitAttentionKernel(GpuKernelBuilder &kb, Operation *op,
                                             const IRMapping &operands, ArrayRef<Value> results);
/// Split-key attention (`results` = {out, scratch}): grid z splits the live
/// prefix; each block writes its partial softmax to the scratch buffer
/// [tokens, heads, splits, 2 + head_dim] as (max, sum, Σ p·v). The combine
/// kernel then rescales the splits to their common max and writes `out`.
FailureOr<GpuLaunchDims> emitSplitAttentionKernel(GpuKernelBuilder &kb, Operation *op,
                                                  const IRMapping &operands,
                                                  ArrayRef<Value> results);
FailureOr<GpuLaunchDims> emitAttentionCombineKernel(GpuKernelBuilder &kb, Operation *op,
                                                    const IRMapping &operands,
                                                    ArrayRef<Value> results);

/// The halves of a mixture of experts (llama.moe_swiglu, llama.moe_down):
/// GEMVs over each token's picked experts' rows of the stacked weights,
/// every thread routing its token itself (MixtureOfExpertsKernels.cpp).
FailureOr<GpuLaunchDims> emitMoeSwiGLUKernel(GpuKernelBuilder &kb, Operation *op,
                                             const IRMapping &operands, ArrayRef<Value> results);
FailureOr<GpuLaunchDims> emitMoeDownKernel(GpuKernelBuilder &kb, Operation *op,
                                           const IRMapping &operands, ArrayRef<Value> results);

/// embedding (a row gather) and the elementwise ops (add, mul, silu, swiglu).
FailureOr<GpuLaunchDims> emitEmbeddingKernel(GpuKernelBuilder &kb, Operation *op,
                                             const IRMapping &operands, ArrayRef<Value> results);
FailureOr<GpuLaunchDims> emitElementwiseKernel(GpuKernelBuilder &kb, Operation *op,
                                               const IRMapping &operands, ArrayRef<Value> results);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_GPU_GPUKERNELS_H
