//===- IntDotPairedGroups.cpp - vpdpbusd over int4 groups of 32 -----------===//
//
// int4 weights in groups of 32 put two groups in each 64-weight chunk, so
// the int32 lanes of one vpdpbusd cannot all be scaled alike (IntDot.h).
// The unpack order decides which lanes hold which group: lanes 0-3 and
// 8-11 the chunk's first group, 4-7 and 12-15 its second. Each chunk's
// sums are converted and multiplied by a per-lane vector of d * s, taken
// by one permute from a vector of 16 groups' d * s made once per span of
// 16 groups; the groups' offsets (z - 8 s) times the activation blocks'
// sums are one fma per span, added to the same f32 lanes.
//
//===----------------------------------------------------------------------===//

#include "passes/IntDot.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

/// Groups whose scales are loaded together: one f32 vector of them.
constexpr int64_t kSpanGroups = 16;
constexpr int64_t kGroup = 32;
constexpr int64_t kLanes = 16;

Value index(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIndexOp::create(b, l, v);
}

/// The accumulators after the `count` groups from group `first` (an
/// index): per row s and z - 8 s of those groups, per token d and d *
/// sum(q) of the same blocks, then the chunks one by one.
SmallVector<Value> buildSpan(OpBuilder &b, Location l, const PairedGroupBlock &block,
                             Value first, int64_t count, ValueRange accs) {
  Type f32 = b.getF32Type();
  auto groupsF32 = VectorType::get({count}, f32);
  auto accType = VectorType::get({kLanes}, f32);
  size_t tokens = block.tokens.size();

  SmallVector<GroupSpan> params;
  for (Value row : block.rows)
    params.push_back(loadGroupSpan(b, l, block.scales, block.zeros, row, first, count));
  SmallVector<Value> d, sums;
  for (Value token : block.tokens) {
    d.push_back(vector::LoadOp::create(b, l, groupsF32, block.acts->blockScales,
                                       ValueRange{token, first}));
    sums.push_back(vector::LoadOp::create(b, l, groupsF32, block.acts->blockSums,
                                          ValueRange{token, first}));
  }

  // Per (row, token): the span's offsets into the f32 lanes, and its d * s.
  SmallVector<Value> out(accs.begin(), accs.end()), ds;
  for (size_t r = 0; r < block.rows.size(); ++r)
    for (size_t t = 0; t < tokens; ++t) {
      size_t i = r * tokens + t;
      out[i] = addGroupOffsetProducts(b, l, out[i], params[r].offsets, sums[t]);
      ds.push_back(arith::MulFOp::create(b, l, params[r].scales, d[t]));
    }

  auto bytes = VectorType::get({kIntDotChunk}, b.getI8Type());
  auto packed = VectorType::get({kIntDotChunk / 2}, b.getI8Type());
  Value firstColumn = arith::MulIOp::create(b, l, first, index(b, l, kGroup));
  for (int64_t c = 0; c < count / 2; ++c) {
    Value kk = arith::AddIOp::create(b, l, firstColumn, index(b, l, c * kIntDotChunk));
    Value byte = arith::AddIOp::create(
        b, l, arith::DivUIOp::create(b, l, firstColumn, index(b, l, 2)),
        index(b, l, c * kIntDotChunk / 2));
    SmallVector<Value> xs;
    for (Value token : block.tokens)
      xs.push_back(vector::LoadOp::create(b, l, bytes, block.acts->values, ValueRange{token, kk}));
    for (Value r : block.prefetchRows)
      memref::PrefetchOp::create(b, l, block.values, ValueRange{r, byte}, /*isWrite=*/false,
                                 /*localityHint=*/2, /*isDataCache=*/true);
    // Lane j of the chunk's sums belongs to group 2c + (j / 4) % 2.
    SmallVector<int64_t> lanesGroup;
    for (int64_t j = 0; j < kLanes; ++j)
      lanesGroup.push_back(2 * c + (j / 4) % 2);
    for (size_t r = 0; r < block.rows.size(); ++r) {
      Value w = unpackNibbles(
          b, l, vector::LoadOp::create(b, l, packed, block.values, ValueRange{block.rows[r], byte}));
      for (size_t t = 0; t < tokens; ++t) {
        size_t i = r * tokens + t;
        Value sum = arith::SIToFPOp::create(b, l, accType, vnniDot(b, l, w, xs[t]));
        Value scale = vector::ShuffleOp::create(b, l, ds[i], ds[i], lanesGroup);
        out[i] = vector::FMAOp::create(b, l, sum, scale, out[i]);
      }
    }
  }
  return out;
}

} // namespace

SmallVector<Value> llama::buildPairedGroupDots(OpBuilder &b, Location l,
                                               const PairedGroupBlock &block, int64_t k,
                                               ValueRange accs) {
  const int64_t groups = k / kGroup, spans = groups / kSpanGroups,
                rest = groups % kSpanGroups;
  SmallVector<Value> out(accs.begin(), accs.end());
  if (spans > 0) {
    auto loop = scf::ForOp::create(
        b, l, index(b, l, 0), index(b, l, spans), index(b, l, 1), out,
        [&](OpBuilder &b, Location l, Value span, ValueRange iter) {
          Value first = arith::MulIOp::create(b, l, span, index(b, l, kSpanGroups));
          scf::YieldOp::create(b, l, buildSpan(b, l, block, first, kSpanGroups, iter));
        });
    out.assign(loop.getResults().begin(), loop.getResults().end());
  }
  if (rest > 0)
    out = buildSpan(b, l, block, index(b, l, spans * kSpanGroups), rest, out);
  return out;
}
