//===- FlashAttention.cpp - blocked causal attention, online softmax -----===//
//
// `llama.attention` as a flash-style loop nest. For each kv head and each
// block of query rows, the rows of the block's score matrix are the block's
// rows times the query heads that share the kv head (GQA group), so each
// block of keys and values is read once for all of them. The keys are
// visited in blocks up to the block's last causal position only (no work
// above the diagonal beyond the one block that crosses it, which is
// masked); with a sliding window, from the key block that holds the block's
// first row's earliest visible key (older blocks are never read; in a ring
// cache, key block t0 is at slot t0 mod positions), and the
// softmax is online: a running max and sum per score row,
// the accumulated output rescaled when the max grows. No score matrix
// larger than [rows, keys-per-block] exists.
//
// The scores of a block and its weighted sum of values are register tiles
// (AttentionTiles.cpp), in f32, reading a bf16 cache as it is; the masks
// compare keys with each score row's position, computed once per block of
// rows.
//
//===----------------------------------------------------------------------===//

#include "passes/FlashAttention.h"

#include "passes/AttentionTiles.h"

#include "dialects/llama/LlamaOps.h"
#include "passes/LinalgBuilders.h"
#include "passes/LinearMatch.h"
#include "passes/ScalarMath.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::llama;

namespace {

/// Key blocks start on multiples of kFlashKeysPerBlock; a ring of whole
/// blocks keeps each block's slots contiguous.
bool ringOfWholeBlocks(AttentionOp op) {
  auto cacheType = cast<RankedTensorType>(op.getKeys().getType());
  return !op.getRing() || (!cacheType.isDynamicDim(1) &&
                           cacheType.getDimSize(1) % kFlashKeysPerBlock == 0);
}

struct FlashAttentionLowering : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value query = op.getQuery(), keys = op.getKeys(), values = op.getValues();
    auto type = cast<RankedTensorType>(query.getType());
    auto cacheType = cast<RankedTensorType>(keys.getType());
    int64_t headDim = type.getDimSize(2);
    if (ShapedType::isDynamic(headDim))
      return rewriter.notifyMatchFailure(op, "head_dim must be static");
    Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type();
    Type element = type.getElementType();
    double scaleValue = op.getScale() ? op.getScale()->convertToDouble()
                                      : 1.0 / std::sqrt(static_cast<double>(headDim));
    std::optional<int64_t> window;
    if (std::optional<uint64_t> w = op.getWindow())
      window = static_cast<int64_t>(*w);
    if (!ringOfWholeBlocks(op))
      return rewriter.notifyMatchFailure(op, "a ring of partial key blocks");
    // The scores take register tiles unless head_dim is odd (below), and
    // whole vectors of kRowLanes score rows where blocks
    // have them (AttentionTiles.h): prefill and verify, not a decode step,
    // whose one row times the group (at most 8 in the Llama family) makes
    // no whole vector and would pay for widening the blocks. The kernels'
    // head counts are dynamic (thread ranges), so static shapes decide where
    // they can and one static row means decode. Both give the same bits.
    bool tiled = scoreLanes(headDim) > 1;
    int64_t rowCount = type.getDimSize(0), headCount = type.getDimSize(1);
    int64_t kvHeadCount = cacheType.getDimSize(2);
    int64_t staticGroup = ShapedType::kDynamic;
    if (!ShapedType::isDynamic(headCount) && !ShapedType::isDynamic(kvHeadCount) &&
        kvHeadCount > 0)
      staticGroup = headCount / kvHeadCount;
    bool manyScoreRows = rowCount != 1;
    if (!ShapedType::isDynamic(rowCount) && !ShapedType::isDynamic(staticGroup))
      manyScoreRows = std::min(rowCount, kFlashQueryRowsPerBlock) * staticGroup >= kRowLanes;
    bool rowVectorScores = tiled && manyScoreRows;
    // A decode step's score rows are its group: one in a multi-head model,
    // whose block max and probabilities then take the keys in the lanes.
    bool mayBeOneRow = rowCount == 1 && (ShapedType::isDynamic(staticGroup) || staticGroup == 1);
    // A decode step reads each key block once for its one row (times the
    // group): llama-prefetch-key-blocks may fetch the next block while this
    // one is used (where the cache rows are far apart: it decides once the
    // strides are known). Prefill reuses a block for many rows and found it
    // in cache (1024 tokens: attention 16 -> 17-18 ms with the prefetches).
    bool prefetchKeyBlocks = rowCount == 1;

    auto index = [&](OpBuilder &b, Location l, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, l, v);
    };
    Value c0 = index(rewriter, loc, 0), c1 = index(rewriter, loc, 1);
    Value rows = tensor::DimOp::create(rewriter, loc, query, 0);
    Value heads = tensor::DimOp::create(rewriter, loc, query, 1);
    Value kvHeads = tensor::DimOp::create(rewriter, loc, keys, 2);
    Value group = arith::DivUIOp::create(rewriter, loc, heads, kvHeads);
    Value scale = f32Constant(rewriter, loc, scaleValue);
    Value rowStep = index(rewriter, loc, kFlashQueryRowsPerBlock);
    Value keyStep = index(rewriter, loc, kFlashKeysPerBlock);
    OpFoldResult zero = rewriter.getIndexAttr(0), one = rewriter.getIndexAttr(1);
    OpFoldResult dh = rewriter.getIndexAttr(headDim);

    // An alloc_tensor, not tensor.empty, for every loop-carried destination:
    // empty-tensor elimination must not fold it into the loop's carried
    // value (a read-after-write conflict one-shot bufferization cannot
    // resolve).
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, query, d));
    Value init = bufferization::AllocTensorOp::create(rewriter, loc, type, dynamicSizes);

    auto par = utils::IteratorType::parallel, red = utils::IteratorType::reduction;
    auto dims = [&](unsigned n, ArrayRef<unsigned> which) {
      SmallVector<AffineExpr> e;
      for (unsigned w : which)
        e.push_back(getAffineDimExpr(w, ctx));
      return AffineMap::get(n, 0, e, ctx);
    };
    auto filled = [&](OpBuilder &b, Location l, double value, ArrayRef<OpFoldResult> shape) {
      SmallVector<int64_t> staticShape;
      SmallVector<Value> dynamic;
      dispatchIndexOpFoldResults(shape, dynamic, staticShape);
      Value buffer = bufferization::AllocTensorOp::create(
          b, l, RankedTensorType::get(staticShape, f32), dynamic);
      return linalg::FillOp::create(b, l, f32Constant(b, l, value), buffer).getResult(0);
    };
    auto empty = [&](OpBuilder &b, Location l, ArrayRef<OpFoldResult> shape, Type t) -> Value {
      return tensor::EmptyOp::create(b, l, shape, t).getResult();
    };

    auto kvLoop = scf::ForOp::create(
        rewriter, loc, c0, kvHeads, c1, ValueRange{init},
        [&](OpBuilder &b, Location l, Value g, ValueRange kvIter) {
          Value firstHead = arith::MulIOp::create(b, l, g, group);
          auto blockLoop = scf::ForOp::create(
              b, l, c0, rows, rowStep, kvIter,
              [&](OpBuilder &b, Location l, Value n0, ValueRange blockIter) {
                Value bq = arith::MinUIOp::create(
                    b, l, rowStep, arith::SubIOp::create(b, l, rows, n0));
                Value scoreRows = arith::MulIOp::create(b, l, bq, group);
                Value blockPos = arith::AddIOp::create(b, l, op.getPos(), n0);
                Value liveEnd = arith::AddIOp::create(b, l, blockPos, bq);

                // The block's queries as f32 score rows r = i * group + j,
                // gathered element by element (rows x head_dim, small next to
                // the block's rows x keys x head_dim); no reshape of a strided
                // view is needed for a dynamic group.
                auto blockType = RankedTensorType::get(
                    {ShapedType::kDynamic, ShapedType::kDynamic, headDim}, element);
                auto rowsType = RankedTensorType::get({ShapedType::kDynamic, headDim}, f32);
                Value q =
                    linalg::GenericOp::create(
                        b, l, rowsType, ValueRange{}, empty(b, l, {scoreRows, dh}, f32),
                        ArrayRef<AffineMap>{dims(2, {0, 1})}, {par, par},
                        [&](OpBuilder &b, Location l, ValueRange) {
                          Value r = linalg::IndexOp::create(b, l, 0);
                          Value d = linalg::IndexOp::create(b, l, 1);
                          Value n = arith::AddIOp::create(
                              b, l, n0, arith::DivUIOp::create(b, l, r, group));
                          Value h = arith::AddIOp::create(
                              b, l, firstHead, arith::RemUIOp::create(b, l, r, group));
                          Value x = tensor::ExtractOp::create(b, l, query, ValueRange{n, h, d});
                          linalg::YieldOp::create(b, l, extendToF32(b, l, x));
                        })
                        .getResult(0);
                // With row vectors, the queries' whole vectors of kRowLanes
                // rows packed as [vectors, head_dim, kRowLanes]
                // (AttentionTiles.cpp).
                Value packedQ;
                if (rowVectorScores) {
                  Value rowVectors =
                      arith::DivUIOp::create(b, l, scoreRows, index(b, l, kRowLanes));
                  AffineExpr v = getAffineDimExpr(0, ctx), d = getAffineDimExpr(1, ctx),
                             lane = getAffineDimExpr(2, ctx);
                  packedQ =
                      linalg::GenericOp::create(
                          b, l,
                          RankedTensorType::get({ShapedType::kDynamic, headDim, kRowLanes}, f32),
                          q, empty(b, l, {rowVectors, dh, b.getIndexAttr(kRowLanes)}, f32),
                          ArrayRef<AffineMap>{AffineMap::get(3, 0, {v * kRowLanes + lane, d}, ctx),
                                              b.getMultiDimIdentityMap(3)},
                          {par, par, par},
                          [&](OpBuilder &b, Location l, ValueRange a) {
                            linalg::YieldOp::create(b, l, a[0]);
                          })
                          .getResult(0);
                }

                // With a sliding window the keys start at the key block (a
                // multiple of kFlashKeysPerBlock) that holds the block's
                // first row's earliest visible key: on the same grid of key
                // blocks as every other blocking of the rows (decode, verify,
                // prefill), so that a row's online softmax rescales at the
                // same keys and its result has the same bits. A row whose
                // window starts later sees whole masked blocks first (alpha
                // below).
                Value keyStart = c0;
                if (window) {
                  Value reach = index(b, l, *window - 1);
                  Value past = arith::CmpIOp::create(b, l, arith::CmpIPredicate::uge, blockPos,
                                                     reach);
                  Value earliest = arith::SelectOp::create(
                      b, l, past, arith::SubIOp::create(b, l, blockPos, reach), c0);
                  keyStart = arith::MulIOp::create(
                      b, l, arith::DivUIOp::create(b, l, earliest, keyStep), keyStep);
                }

                // Each score row's position, blockPos + r / group, once per
                // row block: the masks below read it instead of dividing per
                // score (an integer division per element was the largest
                // cost of a key block after the scores).
                // In i32, not index: the masks then compare 16 lanes a
                // vector instead of 8 (positions are far below 2^31).
                auto positionsType = RankedTensorType::get({ShapedType::kDynamic}, i32);
                Value rowPositions =
                    linalg::GenericOp::create(
                        b, l, positionsType, ValueRange{}, empty(b, l, {scoreRows}, i32),
                        ArrayRef<AffineMap>{dims(1, {0})}, {par},
                        [&](OpBuilder &b, Location l, ValueRange) {
                          Value r = linalg::IndexOp::create(b, l, 0);
                          Value position = arith::AddIOp::create(
                              b, l, blockPos, arith::DivUIOp::create(b, l, r, group));
                          linalg::YieldOp::create(
                              b, l, arith::IndexCastUIOp::create(b, l, i32, position).getResult());
                        })
                        .getResult(0);

                Value m0 = filled(b, l, -INFINITY, {scoreRows});
                Value s0 = filled(b, l, 0.0, {scoreRows});
                Value acc0 = filled(b, l, 0.0, {scoreRows, dh});
                auto keyLoop = scf::ForOp::create(
                    b, l, keyStart, liveEnd, keyStep, ValueRange{m0, s0, acc0},
                    [&](OpBuilder &b, Location l, Value t0, ValueRange state) {
                      Value bk = arith::MinUIOp::create(
                          b, l, keyStep, arith::SubIOp::create(b, l, liveEnd, t0));
                      auto keyBlockType = RankedTensorType::get(
                          {ShapedType::kDynamic, headDim}, cacheType.getElementType());
                      // A ring holds key t0 at slot t0 mod positions;
                      // whole blocks never straddle its wrap.
                      Value slot = t0;
                      if (op.getRing())
                        slot = arith::RemUIOp::create(
                            b, l, t0, index(b, l, cacheType.getDimSize(1)));
                      auto keyBlock = [&](Value cache) -> Value {
                        return tensor::ExtractSliceOp::create(
                            b, l, keyBlockType, cache,
                            SmallVector<OpFoldResult>{op.getLayer(), slot, g, zero},
                            SmallVector<OpFoldResult>{one, bk, one, dh},
                            SmallVector<OpFoldResult>(4, one));
                      };
                      Value k = keyBlock(keys), v = keyBlock(values);
                      // With row vectors, a bf16 cache's key and value
                      // blocks widened to f32 once, here, for all the
                      // block's score rows (exact, so the same bits), not
                      // once per register tile. (For a decode step's few
                      // rows the tiles widen less than this would.)
                      if (rowVectorScores && !cacheType.getElementType().isF32()) {
                        auto widen = [&](Value block) -> Value {
                          Value init = bufferization::AllocTensorOp::create(
                              b, l, RankedTensorType::get({ShapedType::kDynamic, headDim}, f32),
                              ValueRange{bk});
                          return widenBlock(b, l, block, init, bk);
                        };
                        k = widen(k);
                        v = widen(v);
                      }

                      // The scores key-major, scoresT[t, r] = q[r] . k[t], in
                      // register tiles whose lanes are summed together
                      // (AttentionTiles.cpp); an odd head_dim takes a
                      // linear-shaped generic (the vectorized projection
                      // path) and a transpose.
                      Value scoresT;
                      if (tiled) {
                        Value scoresInit = bufferization::AllocTensorOp::create(
                            b, l, RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic}, f32),
                            ValueRange{bk, scoreRows});
                        scoresT = blockScores(b, l, q, packedQ, k, scoresInit, scoreRows, bk);
                      } else {
                        Value scoresInit = linalg::FillOp::create(
                                               b, l, f32Constant(b, l, 0.0),
                                               empty(b, l, {scoreRows, bk}, f32))
                                               .getResult(0);
                        auto scoreGeneric = linalg::GenericOp::create(
                            b, l, scoresInit.getType(), ValueRange{q, k}, scoresInit,
                            ArrayRef<AffineMap>{dims(3, {0, 2}), dims(3, {1, 2}), dims(3, {0, 1})},
                            {par, par, red}, [&](OpBuilder &b, Location l, ValueRange a) {
                              Value p = arith::MulFOp::create(b, l, a[0], extendToF32(b, l, a[1]));
                              linalg::YieldOp::create(
                                  b, l, arith::AddFOp::create(b, l, a[2], p).getResult());
                            });
                        // A bf16 key cache is read in bf16 and widened; the
                        // query keeps f32 (no vdpbf16ps rounding of it).
                        scoreGeneric->setAttr(kF32InputsAttr, b.getUnitAttr());
                        scoresT = linalg::TransposeOp::create(
                                      b, l, scoreGeneric.getResult(0),
                                      empty(b, l, {bk, scoreRows}, f32), ArrayRef<int64_t>{1, 0})
                                      .getResult()
                                      .front();
                      }

                      // Causality: score row r is query row n0 + r / group at
                      // position blockPos + r / group; key t0 + t is visible
                      // to it when t0 + t <= that position (and, with a
                      // window, t0 + t + window > that position).
                      KeyVisibility visibility{t0, rowPositions, window};
                      Value blockMax =
                          visibleRowMax(b, l, scoresT, visibility, scoreRows, bk, mayBeOneRow);
                      // The new running max, the factor that rescales what
                      // was summed under the old one, and the rescaled sum,
                      // updated in place (loop-carried values must stay
                      // equivalent to their iteration arguments).
                      Type rowVector = state[0].getType();
                      auto update = linalg::GenericOp::create(
                          b, l, TypeRange{rowVector, rowVector, rowVector}, ValueRange{blockMax},
                          ValueRange{state[0], empty(b, l, {scoreRows}, f32), state[1]},
                          SmallVector<AffineMap>(4, dims(1, {0})), {par},
                          [&](OpBuilder &b, Location l, ValueRange a) {
                            Value newMax = arith::MaximumFOp::create(b, l, a[1], a[0]);
                            Value alpha = math::ExpOp::create(
                                b, l,
                                arith::MulFOp::create(
                                    b, l, arith::SubFOp::create(b, l, a[1], newMax), scale));
                            // A row that has seen no key yet (a sliding
                            // window's leading masked blocks: both maxes
                            // -inf) keeps its zeros: alpha 0, not exp(NaN).
                            if (window)
                              alpha = arith::SelectOp::create(
                                  b, l,
                                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, newMax,
                                                        f32Constant(b, l, -INFINITY)),
                                  f32Constant(b, l, 0.0), alpha);
                            Value sum = arith::MulFOp::create(b, l, a[3], alpha);
                            linalg::YieldOp::create(b, l, ValueRange{newMax, alpha, sum});
                          });
                      Value newMax = update.getResult(0), alpha = update.getResult(1);
                      // The probabilities key-major, pT[t, r], so that the
                      // weighted sum below reads a key's probabilities as
                      // one contiguous vector over the score rows; each
                      // row's sum adds its keys in order.
                      auto [probsT, sum] = probabilities(
                          b, l, scoresT, newMax, scale, update.getResult(2), visibility,
                          empty(b, l, {bk, scoreRows}, f32), scoreRows, bk, mayBeOneRow);
                      Value acc = weightedSum(b, l, state[2], alpha, probsT, v, scoreRows, bk);
                      scf::YieldOp::create(b, l, ValueRange{newMax, sum, acc});
                    });
                if (prefetchKeyBlocks)
                  keyLoop->setAttr(kKeyBlockLoopAttr, b.getUnitAttr());

                // out[n0 + i, firstHead + j] = acc[r] / sum[r], written into
                // the destination's slice in place.
                Value acc = keyLoop.getResult(2), sum = keyLoop.getResult(1);
                SmallVector<OpFoldResult> outOffsets{n0, firstHead, zero};
                SmallVector<OpFoldResult> outSizes{bq, group, dh};
                SmallVector<OpFoldResult> unitStrides(3, one);
                Value outSlice = tensor::ExtractSliceOp::create(b, l, blockType, blockIter[0],
                                                                outOffsets, outSizes, unitStrides);
                Value outBlock =
                    linalg::GenericOp::create(
                        b, l, blockType, ValueRange{}, outSlice,
                        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(3)}, {par, par, par},
                        [&](OpBuilder &b, Location l, ValueRange) {
                          Value i = linalg::IndexOp::create(b, l, 0);
                          Value j = linalg::IndexOp::create(b, l, 1);
                          Value d = linalg::IndexOp::create(b, l, 2);
                          Value r = arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, i, group),
                                                          j);
                          Value a = tensor::ExtractOp::create(b, l, acc, ValueRange{r, d});
                          Value total = tensor::ExtractOp::create(b, l, sum, ValueRange{r});
                          Value result = arith::DivFOp::create(b, l, a, total);
                          linalg::YieldOp::create(b, l, truncateFromF32(b, l, result, element));
                        })
                        .getResult(0);
                Value updated = tensor::InsertSliceOp::create(b, l, outBlock, blockIter[0],
                                                              outOffsets, outSizes, unitStrides);
                scf::YieldOp::create(b, l, updated);
              });
          scf::YieldOp::create(b, l, blockLoop.getResults());
        });
    rewriter.replaceOp(op, kvLoop.getResults());
    return success();
  }
};

} // namespace

LogicalResult mlir::llama::checkFlashAttentionRings(Operation *root) {
  WalkResult walk = root->walk([](AttentionOp op) {
    if (ringOfWholeBlocks(op))
      return WalkResult::advance();
    op.emitOpError() << "a ring cache needs a static multiple of " << kFlashKeysPerBlock
                     << " positions on the CPU";
    return WalkResult::interrupt();
  });
  return failure(walk.wasInterrupted());
}

void mlir::llama::populateFlashAttentionPattern(RewritePatternSet &patterns) {
  patterns.add<FlashAttentionLowering>(patterns.getContext());
}
