//===- NormKernels.cpp - RMSNorm, one subgroup per row --------------------===//
//
// A row is a few KiB, so one subgroup streams it twice (sum of squares, then
// the scaled write) without shared memory or a block-wide barrier.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/ScalarMath.h"
#include "passes/gpu/GpuKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::llama;

FailureOr<GpuLaunchDims> mlir::llama::emitRMSNormKernel(GpuKernelBuilder &kb, Operation *op,
                                                        const IRMapping &operands,
                                                        ArrayRef<Value> results) {
  auto norm = dyn_cast<RMSNormOp>(op);
  if (!norm || cast<ShapedType>(norm.getInput().getType()).getRank() != 2)
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value x = operands.lookup(norm.getInput()), weight = operands.lookup(norm.getWeight());
  int64_t rows = staticDim(x, 0), dim = staticDim(x, 1);
  Value row = kb.blockId(gpu::Dimension::x);
  Value lane = kb.threadId(gpu::Dimension::x);
  Value end = kb.index(dim), step = kb.index(kb.target.subgroupSize);

  Value partial = kb.forLoop(lane, end, step, {kb.f32(0)}, [&](Value d, ValueRange acc) {
    Value v = kb.loadF32(x, {row, d});
    Value sq = arith::MulFOp::create(b, loc, v, v);
    return SmallVector<Value>{arith::AddFOp::create(b, loc, acc[0], sq)};
  })[0];
  Value sum = kb.subgroupSum(partial);
  // The same formula and order as the CPU lowering: w * (x * rsqrt(mean + eps)).
  Value inv = buildInverseRms(b, loc, sum, kb.f32(static_cast<double>(dim)),
                              kb.f32(norm.getEps().convertToFloat()));
  kb.forEach(lane, end, step, [&](Value d) {
    Value scaled = arith::MulFOp::create(b, loc, kb.loadF32(x, {row, d}), inv);
    Value r = arith::MulFOp::create(b, loc, kb.loadF32(weight, {d}), scaled);
    kb.storeF32(r, results[0], {row, d});
  });
  GpuLaunchDims dims;
  dims.grid = {rows, 1, 1};
  dims.block = {kb.target.subgroupSize, 1, 1};
  return dims;
}
