//===- GemvKernels.cpp - projections as subgroup GEMV kernels -------------===//
//
// Batch-1 decode is memory-bound: every weight must be streamed once at full
// width. One subgroup per output feature keeps each lane on contiguous
// 16-byte loads of its weight row; the lanes' partial sums meet in a shuffle
// butterfly, not in shared memory. A block holds kRowsPerBlock subgroups so
// that an SM keeps enough loads in flight. A fused RMSNorm is computed once
// per block into shared memory. Prefill runs the same kernel with
// one grid row per token (matrix-unit GEMM is future work).
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/ScalarMath.h"
#include "passes/gpu/GpuKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

constexpr int64_t kRowsPerBlock = 4;
/// Static shared memory every target offers a block.
constexpr int64_t kSharedBytes = 48 * 1024;

/// The fused RMSNorm prologue: the block normalizes its token's row once
/// into shared memory (all subgroups reduce together), and every subgroup's
/// GEMV reads the normalized row from there. Returns the shared row.
FailureOr<Value> stageNormalizedRow(GpuKernelBuilder &kb, RMSNormOp norm,
                                    const IRMapping &operands, Value token) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value src = operands.lookup(norm.getInput()), weight = operands.lookup(norm.getWeight());
  int64_t dim = staticDim(src, 1);
  if (dim * 4 + kRowsPerBlock * 4 > kSharedBytes)
    return failure();
  Value staged = kb.sharedBuffer({1, dim});
  Value scratch = kb.sharedBuffer({kRowsPerBlock});
  Value tid = kb.threadId(gpu::Dimension::x);
  Value end = kb.index(dim), step = kb.index(kb.target.subgroupSize * kRowsPerBlock);
  Value partial = kb.forLoop(tid, end, step, {kb.f32(0)}, [&](Value d, ValueRange acc) {
    Value v = kb.loadF32(src, {token, d});
    return SmallVector<Value>{arith::AddFOp::create(b, loc, acc[0], arith::MulFOp::create(b, loc, v, v))};
  })[0];
  Value sum = kb.blockSum(partial, scratch, kRowsPerBlock);
  // The same formula and order as the CPU lowering: w * (x * rsqrt(mean + eps)).
  Value mean = arith::DivFOp::create(b, loc, sum, kb.f32(static_cast<double>(dim)));
  Value inv = math::RsqrtOp::create(
      b, loc, arith::AddFOp::create(b, loc, mean, kb.f32(norm.getEps().convertToFloat())));
  kb.forEach(tid, end, step, [&](Value d) {
    Value scaled = arith::MulFOp::create(b, loc, kb.loadF32(src, {token, d}), inv);
    kb.storeF32(arith::MulFOp::create(b, loc, kb.loadF32(weight, {d}), scaled), staged,
                {kb.index(0), d});
  });
  kb.barrier();
  return staged;
}

/// The dot products of row `row` of each weight with row `token` of x, each
/// summed over the subgroup (every lane gets the totals). x is read once for
/// all weights.
SmallVector<Value> subgroupDots(GpuKernelBuilder &kb, Value x, ArrayRef<Value> weights,
                                Value xRow, Value row, Value lane) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  int64_t k = staticDim(x, 1);
  Type weightType = cast<MemRefType>(weights.front().getType()).getElementType();
  int64_t weightBits = weightType.getIntOrFloatBitWidth();
  int64_t perLoad = kb.target.vectorLoadBytes * 8 / weightBits;
  // Full-width loads need every row start aligned to one load, in both the
  // weights and the (f32) activations.
  bool vectorized = cast<MemRefType>(x.getType()).getElementType().isF32() &&
                    k % perLoad == 0 && (k * weightBits / 8) % kb.target.vectorLoadBytes == 0 &&
                    (k * 4) % 16 == 0;
  Type f32 = b.getF32Type();
  SmallVector<Value> partial;
  if (vectorized) {
    auto accType = VectorType::get({perLoad}, f32);
    auto loadType = VectorType::get({perLoad}, weightType);
    Value zero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
    SmallVector<Value> init(weights.size(), zero);
    Value start = arith::MulIOp::create(b, loc, lane, kb.index(perLoad));
    SmallVector<Value> acc = kb.forLoop(
        start, kb.index(k), kb.index(perLoad * kb.target.subgroupSize), init,
        [&](Value kk, ValueRange iter) {
          auto xv = vector::LoadOp::create(b, loc, accType, x, ValueRange{xRow, kk});
          xv.setAlignment(16);
          SmallVector<Value> next;
          for (auto [w, sum] : llvm::zip(weights, iter)) {
            auto wv = vector::LoadOp::create(b, loc, loadType, w, ValueRange{row, kk});
            wv.setAlignment(kb.target.vectorLoadBytes);
            Value wf = weightType.isF32() ? Value(wv)
                                          : arith::ExtFOp::create(b, loc, accType, wv.getResult());
            next.push_back(vector::FMAOp::create(b, loc, wf, xv, sum));
          }
          return next;
        });
    for (Value v : acc)
      partial.push_back(vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v));
  } else {
    SmallVector<Value> init(weights.size(), kb.f32(0));
    partial = kb.forLoop(lane, kb.index(k), kb.index(kb.target.subgroupSize), init,
                         [&](Value kk, ValueRange iter) {
                           Value xs = kb.loadF32(x, {xRow, kk});
                           SmallVector<Value> next;
                           for (auto [w, sum] : llvm::zip(weights, iter)) {
                             Value p = arith::MulFOp::create(b, loc, kb.loadF32(w, {row, kk}), xs);
                             next.push_back(arith::AddFOp::create(b, loc, sum, p));
                           }
                           return next;
                         });
  }
  SmallVector<Value> sums;
  for (Value p : partial)
    sums.push_back(kb.subgroupSum(p));
  return sums;
}

} // namespace

FailureOr<GpuLaunchDims> mlir::llama::emitGemvKernel(GpuKernelBuilder &kb, Operation *op,
                                                     const IRMapping &operands,
                                                     ArrayRef<Value> results) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto norm = op->getOperand(0).getDefiningOp<RMSNormOp>();
  Value x = operands.lookup(norm ? norm.getInput() : op->getOperand(0));
  int64_t tokens = staticDim(x, 0);

  // Output features of each weight, laid end to end along grid x.
  SmallVector<Value> weights;
  if (auto linear = dyn_cast<LinearOp>(op))
    weights.push_back(operands.lookup(linear.getWeight()));
  else if (auto group = dyn_cast<LinearGroupOp>(op))
    for (Value w : group.getWeights())
      weights.push_back(operands.lookup(w));
  else if (auto gated = dyn_cast<GatedLinearOp>(op))
    weights.push_back(operands.lookup(gated.getGate()));
  else
    return failure();
  int64_t totalRows = 0;
  for (Value w : weights)
    totalRows += staticDim(w, 0);

  Value tid = kb.threadId(gpu::Dimension::x);
  Value subgroup = kb.index(kb.target.subgroupSize);
  Value lane = arith::RemUIOp::create(b, loc, tid, subgroup);
  Value warp = arith::DivUIOp::create(b, loc, tid, subgroup);
  Value row = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, kb.blockId(gpu::Dimension::x), kb.index(kRowsPerBlock)),
      warp);
  Value token = kb.blockId(gpu::Dimension::y);
  Value isLane0 = kb.cmp(arith::CmpIPredicate::eq, lane, kb.index(0));
  // The row of x the dot products read: the token's, or the staged one.
  Value xRow = token;
  if (norm) {
    FailureOr<Value> staged = stageNormalizedRow(kb, norm, operands, token);
    if (failed(staged))
      return failure();
    x = *staged;
    xRow = kb.index(0);
  }

  if (auto gated = dyn_cast<GatedLinearOp>(op)) {
    Value up = operands.lookup(gated.getUp());
    kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, row, kb.index(totalRows)), [&] {
      SmallVector<Value> sums = subgroupDots(kb, x, {weights[0], up}, xRow, row, lane);
      Value out = arith::MulFOp::create(b, loc, buildSilu(b, loc, sums[0]), sums[1]);
      kb.ifThen(isLane0, [&] { kb.storeF32(out, results[0], {token, row}); });
    });
  } else {
    Value residual;
    if (auto linear = dyn_cast<LinearOp>(op); linear && linear.getResidual())
      residual = operands.lookup(linear.getResidual());
    // Each subgroup's row is uniform, so the branches never split a subgroup
    // (the shuffles inside need every lane).
    int64_t first = 0;
    for (auto [w, out] : llvm::zip(weights, results)) {
      int64_t rows = staticDim(w, 0);
      Value inRange = arith::AndIOp::create(
          b, loc, kb.cmp(arith::CmpIPredicate::uge, row, kb.index(first)),
          kb.cmp(arith::CmpIPredicate::ult, row, kb.index(first + rows)));
      kb.ifThen(inRange, [&, w = w, out = out, first = first] {
        Value local = arith::SubIOp::create(b, loc, row, kb.index(first));
        Value sum = subgroupDots(kb, x, {w}, xRow, local, lane)[0];
        kb.ifThen(isLane0, [&] {
          Value value = residual ? arith::AddFOp::create(b, loc, sum,
                                                         kb.loadF32(residual, {token, local}))
                                           .getResult()
                                 : sum;
          kb.storeF32(value, out, {token, local});
        });
      });
      first += rows;
    }
  }
  GpuLaunchDims dims;
  dims.grid = {(totalRows + kRowsPerBlock - 1) / kRowsPerBlock, tokens, 1};
  dims.block = {kb.target.subgroupSize * kRowsPerBlock, 1, 1};
  return dims;
}
