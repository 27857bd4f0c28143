//===- AttentionKernel.cpp - attention over the live cache prefix ---------===//
//
// One block per (head, query row); its subgroups split the live cache prefix
// (a chunk of subgroup-size keys each in turn), or with a sliding window
// its last `window` positions (in a ring cache, position t at slot
// t mod positions). Lanes score one key each and
// an online softmax (running max and sum, rescaled per chunk) keeps each
// subgroup's pass in registers: no scores buffer, so any context length
// works. For the weighted sum each lane owns head_dim elements lane,
// lane + S, ... and receives every key's probability by a shuffle. The
// subgroups' partial results merge through shared memory at the end. The
// softmax matches the CPU lowering's: exp((s - max) * scale) with s the
// unscaled q·k. The query row is staged in shared memory (rotated there when
// RoPE was fused in).
//
// Decode (one query row) can also split the keys over `splits` blocks per
// head (flash-decoding), so that a batch-1 step occupies every SM: each
// block writes its partial softmax (max, sum, Σ p·v) to a scratch buffer
// the partitioner provides, and a second kernel combines them.
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

/// q[n, h, :] · keys[layer, j, kvHead, :] in f32.
Value dotQK(GpuKernelBuilder &kb, Value query, Value keys, ValueRange qIndex,
            ValueRange keyIndex, int64_t headDim) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto at = [](ValueRange prefix, Value d) {
    SmallVector<Value> idx(prefix);
    idx.push_back(d);
    return idx;
  };
  // Four elements per load: 16 bytes of an f32 cache, 8 of a bf16/f16 one
  // (widened to f32 before the multiply).
  Type cacheElement = cast<MemRefType>(keys.getType()).getElementType();
  if (headDim % 4 == 0) {
    auto vecType = VectorType::get({4}, b.getF32Type());
    auto cacheVecType = VectorType::get({4}, cacheElement);
    unsigned alignment = 4 * cacheElement.getIntOrFloatBitWidth() / 8;
    Value zero = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0)));
    Value acc = kb.forLoop(kb.index(0), kb.index(headDim), kb.index(4), {zero},
                           [&](Value d, ValueRange iter) {
                             auto q = vector::LoadOp::create(b, loc, vecType, query, at(qIndex, d));
                             auto k = vector::LoadOp::create(b, loc, cacheVecType, keys, at(keyIndex, d));
                             q.setAlignment(16);
                             k.setAlignment(alignment);
                             Value kf = k;
                             if (!cacheElement.isF32())
                               kf = arith::ExtFOp::create(b, loc, vecType, kf);
                             return SmallVector<Value>{vector::FMAOp::create(b, loc, q, kf, iter[0])};
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

namespace {

/// True when `scratch` is the [tokens, heads, splits, 2 + head_dim] buffer
/// the split and combine kernels index.
bool isScratchFor(Value scratch, Value out) {
  auto type = cast<MemRefType>(scratch.getType());
  return type.getRank() == 4 && type.getElementType().isF32() &&
         type.getDimSize(0) == staticDim(out, 0) && type.getDimSize(1) == staticDim(out, 1) &&
         type.getDimSize(2) > 0 && type.getDimSize(3) == staticDim(out, 2) + 2;
}

/// The softmax scale: the op's, else 1 / sqrt(head_dim).
double attentionScale(AttentionOp attention, int64_t headDim) {
  return attention.getScale() ? attention.getScale()->convertToDouble()
                              : 1.0 / std::sqrt(static_cast<double>(headDim));
}

/// What the attention kernels share: the op's operands as kernel values and
/// the ids of the block's (head, query row).
struct AttentionContext {
  RopeOp rope;
  Value ropePos; ///< the fused RoPE's position operand
  Value query, keys, values, layer, pos, out;
  int64_t tokens, heads, headDim, kvHeads, lanes, threads, perLane;
  Value scale, h, n, tid, lane, subgroup, kvHead, live;
  /// The row's first visible key: 0, or with a sliding window W,
  /// max(0, live - W).
  Value first;
  /// A ring cache's positions (position t in slot t mod ringSlots); 0: no
  /// ring, position t in slot t.
  int64_t ringSlots = 0;

  /// The cache slot that holds position `t`.
  Value slot(GpuKernelBuilder &kb, Value t) const {
    return ringSlots ? arith::RemUIOp::create(kb.b, kb.loc, t, kb.index(ringSlots)).getResult()
                     : t;
  }
};

AttentionContext makeContext(GpuKernelBuilder &kb, AttentionOp attention,
                             const IRMapping &operands, Value out) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  AttentionContext c;
  c.rope = attention.getQuery().getDefiningOp<RopeOp>();
  c.query = operands.lookup(c.rope ? c.rope.getInput() : attention.getQuery());
  if (c.rope)
    c.ropePos = operands.lookup(c.rope.getPos());
  c.keys = operands.lookup(attention.getKeys());
  c.values = operands.lookup(attention.getValues());
  c.layer = operands.lookup(attention.getLayer());
  c.pos = operands.lookup(attention.getPos());
  c.out = out;
  c.tokens = staticDim(c.query, 0);
  c.heads = staticDim(c.query, 1);
  c.headDim = staticDim(c.query, 2);
  c.kvHeads = staticDim(c.keys, 2);
  c.lanes = kb.target.subgroupSize;
  c.threads = c.lanes * kSubgroups;
  c.perLane = (c.headDim + c.lanes - 1) / c.lanes;
  c.scale = kb.f32(attentionScale(attention, c.headDim));
  c.h = kb.blockId(gpu::Dimension::x);
  c.n = kb.blockId(gpu::Dimension::y);
  c.tid = kb.threadId(gpu::Dimension::x);
  c.lane = arith::RemUIOp::create(b, loc, c.tid, kb.index(c.lanes));
  c.subgroup = arith::DivUIOp::create(b, loc, c.tid, kb.index(c.lanes));
  c.kvHead = arith::DivUIOp::create(b, loc, c.h, kb.index(c.heads / c.kvHeads));
  c.live = arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, c.pos, c.n), kb.index(1));
  c.first = kb.index(0);
  if (std::optional<uint64_t> window = attention.getWindow()) {
    Value w = kb.index(static_cast<int64_t>(*window));
    c.first = arith::SelectOp::create(b, loc, kb.cmp(arith::CmpIPredicate::ugt, c.live, w),
                                      arith::SubIOp::create(b, loc, c.live, w), c.first);
  }
  if (attention.getRing())
    c.ringSlots = staticDim(c.keys, 1);
  return c;
}

/// exp((m - max) * scale), or 0 for a partial result that saw no key
/// (m = -inf), which must weigh nothing even when max is -inf too.
Value rescaleFactor(GpuKernelBuilder &kb, Value m, Value max, Value scale) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value factor = math::ExpOp::create(
      b, loc, arith::MulFOp::create(b, loc, arith::SubFOp::create(b, loc, m, max), scale));
  Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, kb.f32(-INFINITY));
  return arith::SelectOp::create(b, loc, empty, kb.f32(0), factor);
}

/// Attention of the block's query row over keys [start, end): the query
/// row is staged (rotated when RoPE is fused) in shared memory, the
/// subgroups take chunks of `lanes` keys in turn with an online softmax
/// each, and their partial results merge through shared memory. Then, for
/// each head_dim element d, one thread calls `sink(d, max, sum, weighted)`:
/// the block's softmax max, its sum of exponentials, and Σ p·v[d].
void emitBlockAttention(GpuKernelBuilder &kb, const AttentionContext &c, Value start, Value end,
                        function_ref<void(Value, Value, Value, Value)> sink) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value zero = kb.index(0);
  Value q = kb.sharedBuffer({1, 1, c.headDim});
  kb.forEach(c.tid, kb.index(c.headDim), kb.index(c.threads), [&](Value d) {
    Value v = c.rope ? emitRopeElement(kb, c.rope, c.query, c.ropePos, c.n, c.h, d)
                     : kb.loadF32(c.query, {c.n, c.h, d});
    kb.storeF32(v, q, {zero, zero, d});
  });
  kb.barrier();

  // The head_dim elements this lane accumulates (clamped: lanes past the end
  // compute a duplicate and do not store it).
  Value lastDim = kb.index(c.headDim - 1);
  SmallVector<Value> dims;
  for (int64_t i = 0; i < c.perLane; ++i)
    dims.push_back(arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, c.lane, kb.index(i * c.lanes)), lastDim));

  Value lastKey = arith::SubIOp::create(b, loc, end, kb.index(1));
  SmallVector<Value> init{kb.f32(-INFINITY), kb.f32(0)};
  init.append(c.perLane, kb.f32(0));
  Value first = arith::AddIOp::create(
      b, loc, start, arith::MulIOp::create(b, loc, c.subgroup, kb.index(c.lanes)));
  SmallVector<Value> state = kb.forLoop(
      first, end, kb.index(c.threads), init, [&](Value chunk, ValueRange iter) {
        Value m = iter[0], l = iter[1];
        Value j = arith::AddIOp::create(b, loc, chunk, c.lane);
        Value valid = kb.cmp(arith::CmpIPredicate::ult, j, end);
        Value key = arith::MinUIOp::create(b, loc, j, lastKey);
        Value s = dotQK(kb, q, c.keys, {zero, zero}, {c.layer, c.slot(kb, key), c.kvHead},
                        c.headDim);
        s = arith::SelectOp::create(b, loc, valid, s, kb.f32(-INFINITY));
        // The chunk's first key is valid, so mNew is finite.
        Value mNew = arith::MaximumFOp::create(b, loc, m, kb.subgroupMax(s));
        Value alpha = math::ExpOp::create(
            b, loc, arith::MulFOp::create(b, loc, arith::SubFOp::create(b, loc, m, mNew), c.scale));
        Value p = math::ExpOp::create(
            b, loc, arith::MulFOp::create(b, loc, arith::SubFOp::create(b, loc, s, mNew), c.scale));
        p = arith::SelectOp::create(b, loc, valid, p, kb.f32(0));
        Value lNew = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, l, alpha),
                                           kb.subgroupSum(p));
        SmallVector<Value> acc;
        for (Value a : iter.drop_front(2))
          acc.push_back(arith::MulFOp::create(b, loc, a, alpha));
        Value count = arith::MinUIOp::create(b, loc, kb.index(c.lanes),
                                             arith::SubIOp::create(b, loc, end, chunk));
        acc = kb.forLoop(kb.index(0), count, kb.index(1), acc, [&](Value jj, ValueRange accIter) {
          Value pj = kb.laneValue(p, jj);
          Value position = c.slot(kb, arith::AddIOp::create(b, loc, chunk, jj));
          SmallVector<Value> next;
          for (auto [a, d] : llvm::zip(accIter, dims)) {
            Value v = kb.loadF32(c.values, {c.layer, position, c.kvHead, d});
            next.push_back(arith::AddFOp::create(b, loc, a, arith::MulFOp::create(b, loc, pj, v)));
          }
          return next;
        });
        SmallVector<Value> next{mNew, lNew};
        next.append(acc);
        return next;
      });

  // Merge the subgroups' partial softmaxes: rescale each to the block-wide
  // max, then sum.
  Value maxes = kb.sharedBuffer({kSubgroups}), sums = kb.sharedBuffer({kSubgroups});
  Value partials = kb.sharedBuffer({kSubgroups, c.headDim});
  kb.ifThen(kb.cmp(arith::CmpIPredicate::eq, c.lane, zero), [&] {
    kb.storeF32(state[0], maxes, {c.subgroup});
    kb.storeF32(state[1], sums, {c.subgroup});
  });
  for (int64_t i = 0; i < c.perLane; ++i) {
    Value d = arith::AddIOp::create(b, loc, c.lane, kb.index(i * c.lanes));
    kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, d, kb.index(c.headDim)),
              [&] { kb.storeF32(state[2 + i], partials, {c.subgroup, d}); });
  }
  kb.barrier();
  kb.forEach(c.tid, kb.index(c.headDim), kb.index(c.threads), [&](Value d) {
    Value blockMax = kb.f32(-INFINITY);
    for (int64_t w = 0; w < kSubgroups; ++w)
      blockMax = arith::MaximumFOp::create(b, loc, blockMax, kb.loadF32(maxes, {kb.index(w)}));
    Value total = kb.f32(0), weighted = kb.f32(0);
    for (int64_t w = 0; w < kSubgroups; ++w) {
      Value factor = rescaleFactor(kb, kb.loadF32(maxes, {kb.index(w)}), blockMax, c.scale);
      total = arith::AddFOp::create(
          b, loc, total, arith::MulFOp::create(b, loc, kb.loadF32(sums, {kb.index(w)}), factor));
      weighted = arith::AddFOp::create(
          b, loc, weighted,
          arith::MulFOp::create(b, loc, kb.loadF32(partials, {kb.index(w), d}), factor));
    }
    sink(d, blockMax, total, weighted);
  });
}

} // namespace

FailureOr<GpuLaunchDims> mlir::llama::emitAttentionKernel(GpuKernelBuilder &kb, Operation *op,
                                                          const IRMapping &operands,
                                                          ArrayRef<Value> results) {
  auto attention = dyn_cast<AttentionOp>(op);
  if (!attention)
    return failure();
  AttentionContext c = makeContext(kb, attention, operands, results[0]);
  emitBlockAttention(kb, c, c.first, c.live, [&](Value d, Value, Value total, Value weighted) {
    kb.storeF32(arith::DivFOp::create(kb.b, kb.loc, weighted, total), c.out, {c.n, c.h, d});
  });
  GpuLaunchDims launch;
  launch.grid = {c.heads, c.tokens, 1};
  launch.block = {c.threads, 1, 1};
  return launch;
}

FailureOr<GpuLaunchDims> mlir::llama::emitSplitAttentionKernel(GpuKernelBuilder &kb,
                                                               Operation *op,
                                                               const IRMapping &operands,
                                                               ArrayRef<Value> results) {
  auto attention = dyn_cast<AttentionOp>(op);
  if (!attention || results.size() != 2 || !isScratchFor(results[1], results[0]))
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  AttentionContext c = makeContext(kb, attention, operands, results[0]);
  Value scratch = results[1];
  int64_t splits = staticDim(scratch, 2);
  // Split s takes keys [first + s * len, min(first + (s + 1) * len, live));
  // a split past the live prefix is empty and records max -inf, sum 0.
  Value split = kb.blockId(gpu::Dimension::z);
  Value len = arith::CeilDivUIOp::create(b, loc, arith::SubIOp::create(b, loc, c.live, c.first),
                                         kb.index(splits));
  Value start = arith::AddIOp::create(b, loc, c.first, arith::MulIOp::create(b, loc, split, len));
  Value end = arith::MinUIOp::create(b, loc, arith::AddIOp::create(b, loc, start, len), c.live);
  start = arith::MinUIOp::create(b, loc, start, end);
  emitBlockAttention(kb, c, start, end, [&](Value d, Value max, Value total, Value weighted) {
    Value two = kb.index(2);
    kb.storeF32(weighted, scratch, {c.n, c.h, split, arith::AddIOp::create(b, loc, d, two)});
    kb.ifThen(kb.cmp(arith::CmpIPredicate::eq, d, kb.index(0)), [&] {
      kb.storeF32(max, scratch, {c.n, c.h, split, kb.index(0)});
      kb.storeF32(total, scratch, {c.n, c.h, split, kb.index(1)});
    });
  });
  GpuLaunchDims launch;
  launch.grid = {c.heads, c.tokens, splits};
  launch.block = {c.threads, 1, 1};
  return launch;
}

FailureOr<GpuLaunchDims> mlir::llama::emitAttentionCombineKernel(GpuKernelBuilder &kb,
                                                                 Operation *op,
                                                                 const IRMapping &operands,
                                                                 ArrayRef<Value> results) {
  auto attention = dyn_cast<AttentionOp>(op);
  if (!attention || results.size() != 2 || !isScratchFor(results[1], results[0]))
    return failure();
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value out = results[0], scratch = results[1];
  int64_t heads = staticDim(out, 1), headDim = staticDim(out, 2), tokens = staticDim(out, 0);
  int64_t splits = staticDim(scratch, 2);
  Value scale = kb.f32(attentionScale(attention, headDim));
  Value h = kb.blockId(gpu::Dimension::x), n = kb.blockId(gpu::Dimension::y);
  int64_t threads = kb.target.subgroupSize * kSubgroups;
  kb.forEach(kb.threadId(gpu::Dimension::x), kb.index(headDim), kb.index(threads), [&](Value d) {
    // Split 0 always holds the first visible key, so the max over splits is
    // finite.
    Value max = kb.f32(-INFINITY);
    for (int64_t s = 0; s < splits; ++s)
      max = arith::MaximumFOp::create(b, loc, max,
                                      kb.loadF32(scratch, {n, h, kb.index(s), kb.index(0)}));
    Value total = kb.f32(0), weighted = kb.f32(0);
    Value column = arith::AddIOp::create(b, loc, d, kb.index(2));
    for (int64_t s = 0; s < splits; ++s) {
      Value factor =
          rescaleFactor(kb, kb.loadF32(scratch, {n, h, kb.index(s), kb.index(0)}), max, scale);
      total = arith::AddFOp::create(
          b, loc, total,
          arith::MulFOp::create(b, loc, kb.loadF32(scratch, {n, h, kb.index(s), kb.index(1)}),
                                factor));
      weighted = arith::AddFOp::create(
          b, loc, weighted,
          arith::MulFOp::create(b, loc, kb.loadF32(scratch, {n, h, kb.index(s), column}), factor));
    }
    kb.storeF32(arith::DivFOp::create(b, loc, weighted, total), out, {n, h, d});
  });
  GpuLaunchDims launch;
  launch.grid = {heads, tokens, 1};
  launch.block = {threads, 1, 1};
  return launch;
}
