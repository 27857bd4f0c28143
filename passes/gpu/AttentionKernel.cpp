//===- AttentionKernel.cpp - attention over the live cache prefix ---------===//
//
// One block per (head, query row); its subgroups split the live cache prefix
// (a chunk of subgroup-size keys each in turn). Lanes score one key each and
// an online softmax (running max and sum, rescaled per chunk) keeps each
// subgroup's pass in registers: no scores buffer, so any context length
// works. For the weighted sum each lane owns head_dim elements lane,
// lane + S, ... and receives every key's probability by a shuffle. The
// subgroups' partial results merge through shared memory at the end. The
// softmax matches the CPU lowering's: exp((s - max) * scale) with s the
// unscaled q·k. The query row is staged in shared memory (rotated there when
// RoPE was fused in).
//
// Not yet: splitting the keys over several blocks (flash-decoding with a
// combine step), which long contexts at batch 1 need to occupy every SM.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/gpu/GpuKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llama;

namespace {

/// Subgroups per block; each takes every kSubgroups-th chunk of keys.
constexpr int64_t kSubgroups = 4;

/// q[n, h, :] · keys[layer, kvHead, j, :] in f32.
Value dotQK(GpuKernelBuilder &kb, Value query, Value keys, ValueRange qIndex,
            ValueRange keyIndex, int64_t headDim) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto at = [](ValueRange prefix, Value d) {
    SmallVector<Value> idx(prefix);
    idx.push_back(d);
    return idx;
  };
  bool f32Cache = cast<MemRefType>(keys.getType()).getElementType().isF32();
  if (headDim % 4 == 0 && f32Cache) {
    auto vecType = VectorType::get({4}, b.getF32Type());
    Value zero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0)));
    Value acc = kb.forLoop(kb.index(0), kb.index(headDim), kb.index(4), {zero},
                           [&](Value d, ValueRange iter) {
                             auto q = vector::LoadOp::create(b, loc, vecType, query, at(qIndex, d));
                             auto k = vector::LoadOp::create(b, loc, vecType, keys, at(keyIndex, d));
                             q.setAlignment(16);
                             k.setAlignment(16);
                             return SmallVector<Value>{vector::FMAOp::create(b, loc, q, k, iter[0])};
                           })[0];
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
  }
  return kb.forLoop(kb.index(0), kb.index(headDim), kb.index(1), {kb.f32(0)},
                    [&](Value d, ValueRange iter) {
                      Value p = arith::MulFOp::create(b, loc, kb.loadF32(query, at(qIndex, d)),
                                                      kb.loadF32(keys, at(keyIndex, d)));
                      return SmallVector<Value>{arith::AddFOp::create(b, loc, iter[0], p)};
                    })[0];
}

} // namespace

FailureOr<GpuLaunchDims> mlir::llama::emitAttentionKernel(GpuKernelBuilder &kb, Operation *op,
                                                          const IRMapping &operands,
                                                          ArrayRef<Value> results) {
  auto attention = dyn_cast<AttentionOp>(op);
  if (!attention)
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto rope = attention.getQuery().getDefiningOp<RopeOp>();
  Value query = operands.lookup(rope ? rope.getInput() : attention.getQuery());
  Value keys = operands.lookup(attention.getKeys()), values = operands.lookup(attention.getValues());
  Value layer = operands.lookup(attention.getLayer()), pos = operands.lookup(attention.getPos());
  Value out = results[0];
  int64_t tokens = staticDim(query, 0), heads = staticDim(query, 1), headDim = staticDim(query, 2);
  int64_t kvHeads = staticDim(keys, 1);
  int64_t lanes = kb.target.subgroupSize;
  int64_t threads = lanes * kSubgroups;
  int64_t perLane = (headDim + lanes - 1) / lanes;
  double scaleValue = attention.getScale() ? attention.getScale()->convertToDouble()
                                           : 1.0 / std::sqrt(static_cast<double>(headDim));
  Value scale = kb.f32(scaleValue);

  Value h = kb.blockId(gpu::Dimension::x), n = kb.blockId(gpu::Dimension::y);
  Value tid = kb.threadId(gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, loc, tid, kb.index(lanes));
  Value subgroup = arith::DivUIOp::create(b, loc, tid, kb.index(lanes));
  Value kvHead = arith::DivUIOp::create(b, loc, h, kb.index(heads / kvHeads));
  Value live = arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, pos, n), kb.index(1));
  Value lastKey = arith::SubIOp::create(b, loc, live, kb.index(1));
  Value zero = kb.index(0);

  // The query row (rotated here when RoPE was fused in), read by every key.
  Value q = kb.sharedBuffer({1, 1, headDim});
  kb.forEach(tid, kb.index(headDim), kb.index(threads), [&](Value d) {
    Value v = rope ? emitRopeElement(kb, rope, query, operands.lookup(rope.getPos()), n, h, d)
                   : kb.loadF32(query, {n, h, d});
    kb.storeF32(v, q, {zero, zero, d});
  });
  kb.barrier();

  // The head_dim elements this lane accumulates (clamped: lanes past the end
  // compute a duplicate and do not store it).
  Value lastDim = kb.index(headDim - 1);
  SmallVector<Value> dims;
  for (int64_t i = 0; i < perLane; ++i)
    dims.push_back(arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, lane, kb.index(i * lanes)), lastDim));

  // Subgroup w takes the chunks of `lanes` keys starting at w * lanes, then
  // every kSubgroups chunks.
  SmallVector<Value> init{kb.f32(-INFINITY), kb.f32(0)};
  init.append(perLane, kb.f32(0));
  Value first = arith::MulIOp::create(b, loc, subgroup, kb.index(lanes));
  SmallVector<Value> state = kb.forLoop(
      first, live, kb.index(threads), init, [&](Value chunk, ValueRange iter) {
        Value m = iter[0], l = iter[1];
        Value j = arith::AddIOp::create(b, loc, chunk, lane);
        Value valid = kb.cmp(arith::CmpIPredicate::ult, j, live);
        Value key = arith::MinUIOp::create(b, loc, j, lastKey);
        Value s = dotQK(kb, q, keys, {zero, zero}, {layer, kvHead, key}, headDim);
        s = arith::SelectOp::create(b, loc, valid, s, kb.f32(-INFINITY));
        Value mNew = arith::MaximumFOp::create(b, loc, m, kb.subgroupMax(s));
        Value alpha = math::ExpOp::create(
            b, loc, arith::MulFOp::create(b, loc, arith::SubFOp::create(b, loc, m, mNew), scale));
        Value p = math::ExpOp::create(
            b, loc, arith::MulFOp::create(b, loc, arith::SubFOp::create(b, loc, s, mNew), scale));
        p = arith::SelectOp::create(b, loc, valid, p, kb.f32(0));
        Value lNew = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, l, alpha),
                                           kb.subgroupSum(p));
        SmallVector<Value> acc;
        for (Value a : iter.drop_front(2))
          acc.push_back(arith::MulFOp::create(b, loc, a, alpha));
        Value count = arith::MinUIOp::create(b, loc, kb.index(lanes),
                                             arith::SubIOp::create(b, loc, live, chunk));
        acc = kb.forLoop(kb.index(0), count, kb.index(1), acc, [&](Value jj, ValueRange accIter) {
          Value pj = kb.laneValue(p, jj);
          Value position = arith::AddIOp::create(b, loc, chunk, jj);
          SmallVector<Value> next;
          for (auto [a, d] : llvm::zip(accIter, dims)) {
            Value v = kb.loadF32(values, {layer, kvHead, position, d});
            next.push_back(arith::AddFOp::create(b, loc, a, arith::MulFOp::create(b, loc, pj, v)));
          }
          return next;
        });
        SmallVector<Value> next{mNew, lNew};
        next.append(acc);
        return next;
      });

  // Merge the subgroups' partial softmaxes: rescale each to the block-wide
  // max, then sum. A subgroup that saw no key holds max -inf and weighs 0.
  Value maxes = kb.sharedBuffer({kSubgroups}), sums = kb.sharedBuffer({kSubgroups});
  Value partials = kb.sharedBuffer({kSubgroups, headDim});
  kb.ifThen(kb.cmp(arith::CmpIPredicate::eq, lane, zero), [&] {
    kb.storeF32(state[0], maxes, {subgroup});
    kb.storeF32(state[1], sums, {subgroup});
  });
  for (int64_t i = 0; i < perLane; ++i) {
    Value d = arith::AddIOp::create(b, loc, lane, kb.index(i * lanes));
    kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, d, kb.index(headDim)),
              [&] { kb.storeF32(state[2 + i], partials, {subgroup, d}); });
  }
  kb.barrier();
  kb.forEach(tid, kb.index(headDim), kb.index(threads), [&](Value d) {
    Value blockMax = kb.f32(-INFINITY);
    for (int64_t w = 0; w < kSubgroups; ++w)
      blockMax = arith::MaximumFOp::create(b, loc, blockMax, kb.loadF32(maxes, {kb.index(w)}));
    Value total = kb.f32(0), weighted = kb.f32(0);
    for (int64_t w = 0; w < kSubgroups; ++w) {
      Value shift = arith::SubFOp::create(b, loc, kb.loadF32(maxes, {kb.index(w)}), blockMax);
      Value factor = math::ExpOp::create(b, loc, arith::MulFOp::create(b, loc, shift, scale));
      total = arith::AddFOp::create(
          b, loc, total, arith::MulFOp::create(b, loc, kb.loadF32(sums, {kb.index(w)}), factor));
      weighted = arith::AddFOp::create(
          b, loc, weighted,
          arith::MulFOp::create(b, loc, kb.loadF32(partials, {kb.index(w), d}), factor));
    }
    kb.storeF32(arith::DivFOp::create(b, loc, weighted, total), out, {n, h, d});
  });
  GpuLaunchDims launch;
  launch.grid = {heads, tokens, 1};
  launch.block = {threads, 1, 1};
  return launch;
}
