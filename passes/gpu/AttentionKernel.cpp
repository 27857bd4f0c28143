//===- AttentionKernel.cpp - attention over the live cache prefix ---------===//
//
// One subgroup per (head, query row). Lanes score one key each, a chunk of
// subgroup-size keys at a time, and an online softmax (running max and sum,
// rescaled per chunk) keeps the whole pass in registers: no scores buffer, so
// any context length works. For the weighted sum each lane owns head_dim
// elements lane, lane + S, ... and receives every key's probability by a
// shuffle. The softmax matches the CPU lowering's: exp((s - max) * scale)
// with s the unscaled q·k.
//
// Not yet: splitting the keys over several blocks (flash-decoding), which
// long contexts at batch 1 need to occupy every SM.
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
  Value query = operands.lookup(attention.getQuery());
  Value keys = operands.lookup(attention.getKeys()), values = operands.lookup(attention.getValues());
  Value layer = operands.lookup(attention.getLayer()), pos = operands.lookup(attention.getPos());
  Value out = results[0];
  int64_t tokens = staticDim(query, 0), heads = staticDim(query, 1), headDim = staticDim(query, 2);
  int64_t kvHeads = staticDim(keys, 1);
  int64_t lanes = kb.target.subgroupSize;
  int64_t perLane = (headDim + lanes - 1) / lanes;
  double scaleValue = attention.getScale() ? attention.getScale()->convertToDouble()
                                           : 1.0 / std::sqrt(static_cast<double>(headDim));
  Value scale = kb.f32(scaleValue);

  Value h = kb.blockId(gpu::Dimension::x), n = kb.blockId(gpu::Dimension::y);
  Value lane = kb.threadId(gpu::Dimension::x);
  Value kvHead = arith::DivUIOp::create(b, loc, h, kb.index(heads / kvHeads));
  Value live = arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, pos, n), kb.index(1));
  Value lastKey = arith::SubIOp::create(b, loc, live, kb.index(1));
  Value lastDim = kb.index(headDim - 1);
  // The head_dim elements this lane accumulates (clamped: lanes past the end
  // compute a duplicate and do not store it).
  SmallVector<Value> dims;
  for (int64_t i = 0; i < perLane; ++i)
    dims.push_back(arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, lane, kb.index(i * lanes)), lastDim));

  SmallVector<Value> init{kb.f32(-INFINITY), kb.f32(0)};
  init.append(perLane, kb.f32(0));
  SmallVector<Value> state = kb.forLoop(
      kb.index(0), live, kb.index(lanes), init, [&](Value chunk, ValueRange iter) {
        Value m = iter[0], l = iter[1];
        Value j = arith::AddIOp::create(b, loc, chunk, lane);
        Value valid = kb.cmp(arith::CmpIPredicate::ult, j, live);
        Value key = arith::MinUIOp::create(b, loc, j, lastKey);
        Value s = dotQK(kb, query, keys, {n, h}, {layer, kvHead, key}, headDim);
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
  Value sum = state[1];
  for (int64_t i = 0; i < perLane; ++i) {
    Value d = arith::AddIOp::create(b, loc, lane, kb.index(i * lanes));
    kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, d, kb.index(headDim)), [&] {
      kb.storeF32(arith::DivFOp::create(b, loc, state[2 + i], sum), out, {n, h, d});
    });
  }
  GpuLaunchDims launch;
  launch.grid = {heads, tokens, 1};
  launch.block = {lanes, 1, 1};
  return launch;
}
