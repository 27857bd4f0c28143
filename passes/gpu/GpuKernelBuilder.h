//===- GpuKernelBuilder.h - building blocks of the GPU kernels ---*- C++ -*-===//
//
// The GPU kernels are gpu.func bodies built from a few pieces: thread and
// block ids, loads that widen to the f32 compute type, and subgroup (warp or
// wave) reductions over shuffles. Every kernel family is written once against
// these and the target info, and lowers to NVVM and ROCDL alike.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_GPU_GPUKERNELBUILDER_H
#define LLAMAC_PASSES_GPU_GPUKERNELBUILDER_H

#include "passes/GpuTargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <array>
#include <functional>

namespace mlir::llama {

/// Static launch dimensions of one kernel.
struct GpuLaunchDims {
  std::array<int64_t, 3> grid{1, 1, 1};
  std::array<int64_t, 3> block{1, 1, 1};
};

class GpuKernelBuilder {
public:
  GpuKernelBuilder(OpBuilder &b, Location loc, const GpuTargetInfo &target,
                   gpu::GPUFuncOp kernel)
      : b(b), loc(loc), target(target), kernel(kernel) {}

  OpBuilder &b;
  Location loc;
  const GpuTargetInfo &target;
  gpu::GPUFuncOp kernel;
  /// > 0: the kernel belongs to a verify pass of this many tokens (its rows
  /// must equal decode's; `llama.rows_match_step`), which a GEMV takes in
  /// one block so that the weights stream once, as in decode.
  int64_t verifyTokens = 0;

  Value index(int64_t v);
  Value f32(double v);
  Value threadId(gpu::Dimension d);
  Value blockId(gpu::Dimension d);

  /// Loads `memref[indices]` as f32 (bf16/f16 are widened).
  Value loadF32(Value memref, ValueRange indices);
  /// Stores an f32 value, narrowed to the memref's element type.
  void storeF32(Value value, Value memref, ValueRange indices);

  /// The sum (max) of `value` over the lanes of the subgroup, in every lane:
  /// a butterfly of xor shuffles.
  Value subgroupSum(Value value);
  Value subgroupMax(Value value);
  /// `value` as held by lane `lane` (uniform over the subgroup).
  Value laneValue(Value value, Value lane);

  /// for (i = start; i < end; i += step) with loop-carried f32 values.
  SmallVector<Value> forLoop(Value start, Value end, Value step, ValueRange init,
                             function_ref<SmallVector<Value>(Value, ValueRange)> body);
  /// for (i = start; i < end; i += step) without carried values.
  void forEach(Value start, Value end, Value step, function_ref<void(Value)> body);
  /// A block-shared f32 buffer (a workgroup attribution), 16-byte aligned
  /// so that it can be read with vector loads.
  Value sharedBuffer(ArrayRef<int64_t> shape);
  /// Waits for every thread of the block (and their shared-memory writes).
  void barrier();
  /// Each of `sums` (already summed over its subgroup, uniform in it) summed
  /// over the block's `subgroups` subgroups, in every thread: lane 0 of
  /// subgroup `subgroup` writes them to `scratch` ([subgroups, >= sums],
  /// shared memory), one barrier, then they are added in the subgroups'
  /// order (the same bits in every block). Every thread of the block must
  /// reach it (the barrier).
  SmallVector<Value> blockSums(ArrayRef<Value> sums, Value scratch, Value subgroup,
                               Value lane, int64_t subgroups);

  /// if (cond) { body }.
  void ifThen(Value cond, function_ref<void()> body);

  Value cmp(arith::CmpIPredicate predicate, Value lhs, Value rhs);

private:
  Value butterfly(Value value, function_ref<Value(Value, Value)> combine);
};

/// Index of a dimension of a statically shaped memref.
int64_t staticDim(Value memref, unsigned dim);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_GPU_GPUKERNELBUILDER_H
