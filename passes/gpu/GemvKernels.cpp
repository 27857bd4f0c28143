//===- GemvKernels.cpp - projections as subgroup GEMV kernels -------------===//
//
// Batch-1 decode is memory-bound: every weight must be streamed once at full
// width. One subgroup per output feature keeps each lane on contiguous
// 16-byte loads of its weight row; the lanes' partial sums meet in a shuffle
// butterfly, not in shared memory. A block holds kRowsPerBlock subgroups so
// that an SM keeps enough loads in flight. A fused RMSNorm is computed once
// per block into shared memory. Prefill runs the same kernel with
// blocks of up to 4 tokens sharing each weight load (matrix-unit GEMM is
// future work).
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/ScalarMath.h"
#include "passes/gpu/GpuKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

constexpr int64_t kRowsPerBlock = 4;
/// Static shared memory every target offers a block.
constexpr int64_t kSharedBytes = 48 * 1024;

/// True when `count` normalized rows of `dim` floats, and a sum scratch per
/// row, fit the block's shared memory.
bool stagedRowsFit(int64_t count, int64_t dim) {
  return count * dim * 4 + count * kRowsPerBlock * 4 <= kSharedBytes;
}

/// Tokens a block computes together: each loaded weight vector feeds all
/// of them, so a prefill streams the weights tokens / block times instead of
/// once per token. Decode has one token. With a fused RMSNorm the block's
/// normalized rows must also fit in shared memory.
int64_t tokensPerBlock(int64_t tokens, int64_t dim, bool stagedRows) {
  for (int64_t block : {4, 2})
    if (tokens % block == 0 && (!stagedRows || stagedRowsFit(block, dim)))
      return block;
  return 1;
}

/// The fused RMSNorm prologue: the block normalizes its tokens' rows once
/// into shared memory (all subgroups reduce together), and every subgroup's
/// GEMV reads the normalized rows from there. Returns the shared rows,
/// [tokens.size(), dim].
FailureOr<Value> stageNormalizedRows(GpuKernelBuilder &kb, RMSNormOp norm,
                                     const IRMapping &operands, ArrayRef<Value> tokens) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value src = operands.lookup(norm.getInput()), weight = operands.lookup(norm.getWeight());
  int64_t dim = staticDim(src, 1);
  int64_t count = static_cast<int64_t>(tokens.size());
  if (!stagedRowsFit(count, dim))
    return failure();
  Value staged = kb.sharedBuffer({count, dim});
  Value tid = kb.threadId(gpu::Dimension::x);
  Value end = kb.index(dim), step = kb.index(kb.target.subgroupSize * kRowsPerBlock);
  SmallVector<Value> init(count, kb.f32(0));
  SmallVector<Value> partials = kb.forLoop(tid, end, step, init, [&](Value d, ValueRange acc) {
    SmallVector<Value> next;
    for (auto [token, sum] : llvm::zip(tokens, acc)) {
      Value v = kb.loadF32(src, {token, d});
      next.push_back(arith::AddFOp::create(b, loc, sum, arith::MulFOp::create(b, loc, v, v)));
    }
    return next;
  });
  SmallVector<Value> inverse;
  for (Value partial : partials) {
    // A scratch buffer per token: blockSum's barrier orders its own writes
    // and reads only.
    Value sum = kb.blockSum(partial, kb.sharedBuffer({kRowsPerBlock}), kRowsPerBlock);
    // The same formula and order as the CPU lowering: w * (x * rsqrt(mean + eps)).
    inverse.push_back(buildInverseRms(b, loc, sum, kb.f32(static_cast<double>(dim)),
                                      kb.f32(norm.getEps().convertToFloat())));
  }
  kb.forEach(tid, end, step, [&](Value d) {
    Value g = kb.loadF32(weight, {d});
    for (auto [t, token] : llvm::enumerate(tokens)) {
      Value scaled = arith::MulFOp::create(b, loc, kb.loadF32(src, {token, d}), inverse[t]);
      kb.storeF32(arith::MulFOp::create(b, loc, g, scaled), staged,
                  {kb.index(static_cast<int64_t>(t)), d});
    }
  });
  kb.barrier();
  return staged;
}

/// The dot products of row `row` of each weight with each of the rows
/// `xRows` of x, summed over the subgroup (every lane gets the totals), at
/// index w * xRows.size() + t. Each loaded weight vector feeds every row of
/// x, and each loaded x vector every weight.
SmallVector<Value> subgroupDots(GpuKernelBuilder &kb, Value x, ArrayRef<Value> weights,
                                ArrayRef<Value> xRows, Value row, Value lane) {
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
  size_t count = weights.size() * xRows.size();
  SmallVector<Value> partial;
  if (vectorized) {
    auto accType = VectorType::get({perLoad}, f32);
    auto loadType = VectorType::get({perLoad}, weightType);
    Value zero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
    SmallVector<Value> init(count, zero);
    Value start = arith::MulIOp::create(b, loc, lane, kb.index(perLoad));
    SmallVector<Value> acc = kb.forLoop(
        start, kb.index(k), kb.index(perLoad * kb.target.subgroupSize), init,
        [&](Value kk, ValueRange iter) {
          SmallVector<Value> xs;
          for (Value xRow : xRows) {
            auto xv = vector::LoadOp::create(b, loc, accType, x, ValueRange{xRow, kk});
            xv.setAlignment(16);
            xs.push_back(xv);
          }
          SmallVector<Value> next;
          for (auto [i, w] : llvm::enumerate(weights)) {
            auto wv = vector::LoadOp::create(b, loc, loadType, w, ValueRange{row, kk});
            wv.setAlignment(kb.target.vectorLoadBytes);
            Value wf = weightType.isF32() ? Value(wv)
                                          : arith::ExtFOp::create(b, loc, accType, wv.getResult());
            for (auto [t, xv] : llvm::enumerate(xs))
              next.push_back(vector::FMAOp::create(b, loc, wf, xv, iter[i * xs.size() + t]));
          }
          return next;
        });
    for (Value v : acc)
      partial.push_back(vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v));
  } else {
    SmallVector<Value> init(count, kb.f32(0));
    partial = kb.forLoop(lane, kb.index(k), kb.index(kb.target.subgroupSize), init,
                         [&](Value kk, ValueRange iter) {
                           SmallVector<Value> xs;
                           for (Value xRow : xRows)
                             xs.push_back(kb.loadF32(x, {xRow, kk}));
                           SmallVector<Value> next;
                           for (auto [i, w] : llvm::enumerate(weights)) {
                             Value ws = kb.loadF32(w, {row, kk});
                             for (auto [t, xs1] : llvm::enumerate(xs))
                               next.push_back(arith::AddFOp::create(
                                   b, loc, iter[i * xs.size() + t],
                                   arith::MulFOp::create(b, loc, ws, xs1)));
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
  Value isLane0 = kb.cmp(arith::CmpIPredicate::eq, lane, kb.index(0));
  // The block's tokens, and the rows of x the dot products read for them:
  // the tokens' own, or their normalized copies in shared memory.
  int64_t block = tokensPerBlock(tokens, staticDim(x, 1), static_cast<bool>(norm));
  Value first = arith::MulIOp::create(b, loc, kb.blockId(gpu::Dimension::y), kb.index(block));
  SmallVector<Value> tokenIds, xRows;
  for (int64_t t = 0; t < block; ++t)
    tokenIds.push_back(arith::AddIOp::create(b, loc, first, kb.index(t)));
  xRows = tokenIds;
  if (norm) {
    FailureOr<Value> staged = stageNormalizedRows(kb, norm, operands, tokenIds);
    if (failed(staged))
      return failure();
    x = *staged;
    for (int64_t t = 0; t < block; ++t)
      xRows[t] = kb.index(t);
  }

  if (auto gated = dyn_cast<GatedLinearOp>(op)) {
    Value up = operands.lookup(gated.getUp());
    kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, row, kb.index(totalRows)), [&] {
      SmallVector<Value> sums = subgroupDots(kb, x, {weights[0], up}, xRows, row, lane);
      kb.ifThen(isLane0, [&] {
        for (int64_t t = 0; t < block; ++t) {
          Value out = arith::MulFOp::create(b, loc, buildSilu(b, loc, sums[t]), sums[block + t]);
          kb.storeF32(out, results[0], {tokenIds[t], row});
        }
      });
    });
  } else {
    Value residual;
    if (auto linear = dyn_cast<LinearOp>(op); linear && linear.getResidual())
      residual = operands.lookup(linear.getResidual());
    // Each subgroup's row is uniform, so the branches never split a subgroup
    // (the shuffles inside need every lane).
    int64_t firstRow = 0;
    for (auto [w, out] : llvm::zip(weights, results)) {
      int64_t rows = staticDim(w, 0);
      Value inRange = arith::AndIOp::create(
          b, loc, kb.cmp(arith::CmpIPredicate::uge, row, kb.index(firstRow)),
          kb.cmp(arith::CmpIPredicate::ult, row, kb.index(firstRow + rows)));
      kb.ifThen(inRange, [&, w = w, out = out, firstRow = firstRow] {
        Value local = arith::SubIOp::create(b, loc, row, kb.index(firstRow));
        SmallVector<Value> sums = subgroupDots(kb, x, {w}, xRows, local, lane);
        kb.ifThen(isLane0, [&] {
          for (int64_t t = 0; t < block; ++t) {
            Value value = sums[t];
            if (residual)
              value = arith::AddFOp::create(b, loc, value,
                                            kb.loadF32(residual, {tokenIds[t], local}));
            kb.storeF32(value, out, {tokenIds[t], local});
          }
        });
      });
      firstRow += rows;
    }
  }
  GpuLaunchDims dims;
  dims.grid = {(totalRows + kRowsPerBlock - 1) / kRowsPerBlock, tokens / block, 1};
  dims.block = {kb.target.subgroupSize * kRowsPerBlock, 1, 1};
  return dims;
}
