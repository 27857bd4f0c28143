//===- GemvKernels.cpp - projections as subgroup GEMV kernels -------------===//
//
// Batch-1 decode is memory-bound: every weight must be streamed once at full
// width. A subgroup streams a few consecutive rows, each lane on contiguous
// 16-byte loads; the lanes' partial sums meet in a shuffle butterfly. A
// block holds kSubgroupsPerBlock subgroups, each on rows of its own (the
// default, measured), or with gemv-split-k all on the same rows, each taking
// every fourth step of them and the sums meeting in shared memory: four
// times the blocks and subgroups in flight for the same weights, for decode
// grids of a few blocks per SM (not yet measured). Prefill runs the same kernel with
// blocks of up to 4 tokens sharing each weight load (prefill of bf16
// weights runs on the matrix units instead: MatrixUnitGemm.cpp).
//
// A fused RMSNorm costs no pass of its own: w·(g∘x·inv) = inv · w·(g∘x),
// so each subgroup multiplies its weights with g∘x as it reads x, sums x²
// in the same loop (its lanes read every element of x once), and scales its
// dot products by inv = rsqrt(Σx²/dim + eps) at the end. No block-wide
// prologue delays the weight stream, and no row length limit applies.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/ScalarMath.h"
#include "passes/gpu/GpuKernels.h"
#include "passes/gpu/SubgroupDots.h"
#include "passes/gpu/WeightStream.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

/// The widest accumulator of one dot product, in f32 lanes (subgroupDots).
constexpr int64_t kMaxAccumulatorWidth = 4;

/// The most tokens of a verify pass one block computes together.
constexpr int64_t kMaxVerifyTokensPerBlock = 8;

/// Tokens a block computes together: each loaded weight vector feeds all
/// of them, so a prefill streams the weights tokens / block times instead of
/// once per token. Decode has one token; a verify pass (k + 1 tokens, 6 by
/// default) takes them all, so that it streams the weights once as decode
/// does. Each token's sums are the same whatever the block.
int64_t tokensPerBlock(int64_t tokens, int64_t verifyTokens) {
  if (verifyTokens > 0 && tokens <= kMaxVerifyTokensPerBlock)
    return tokens;
  for (int64_t block : {4, 2})
    if (tokens % block == 0)
      return block;
  return 1;
}

} // namespace

/// Rows one subgroup computes together, each loaded chunk of x feeding all
/// of them. x is read from L1/L2 once per row otherwise: 4 bytes of it per
/// 2 bytes of bf16 weight, per byte of int8 and per half byte of int4, more
/// than the weights themselves, and the quantized GEMV was bound by it.
/// Measured on an H200 (one Llama-2-7B-shaped layer and its head, decode
/// tok/s and verify(6) ms against 1 row; bench/README.md, "On a GPU"):
/// bf16 2 rows +2-3%, verify -20% (4 rows: worse); int8 4 rows +21-25%,
/// verify -48% (2 rows: the same decode, verify -40%); int4 4 rows +88%
/// with one token, but with several the accumulators of 4 rows x tokens
/// and the unpacking spill (verify 1.7x slower), where 2 rows give -41%.
int64_t mlir::llama::rowsPerSubgroup(ArrayRef<SmallVector<GpuWeight>> resultWeights,
                                     int64_t tokensInBlock) {
  const GpuWeight &first = resultWeights.front().front();
  int64_t wanted = 2;
  if (first.isQuantized())
    wanted = *first.kind == QuantKind::Int4 && tokensInBlock > 1 ? 2 : 4;
  for (int64_t r = wanted; r > 1; r /= 2) {
    bool divides = true;
    for (const SmallVector<GpuWeight> &weights : resultWeights)
      for (const GpuWeight &w : weights)
        divides &= w.rows() % r == 0;
    if (divides)
      return r;
  }
  return 1;
}

SmallVector<Value> mlir::llama::subgroupDots(GpuKernelBuilder &kb, Value x,
                                             ArrayRef<GpuWeight> weights,
                                             ArrayRef<SmallVector<Value>> xRows,
                                             ArrayRef<Value> rows, const KSplit &split,
                                             std::optional<FusedNorm> norm) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto xType = cast<MemRefType>(x.getType());
  int64_t k = xType.getDimSize(xType.getRank() - 1);
  bool xIsF32 = xType.getElementType().isF32();
  // Each lane takes `width` consecutive elements per step: one load's worth
  // of weights, or a single element when rows are not whole loads.
  WeightSteps steps = weightSteps(kb.target, weights, k, xIsF32);
  bool vectorized = steps.vectorized;
  int64_t width = steps.width();
  Type f32 = b.getF32Type();
  // Accumulators narrower than a step: a quantized step is 16 or 32
  // columns, and one accumulator that wide per weight and token (with the
  // step's activations beside it) spilled registers once a kernel had two
  // weights or several tokens. Each step's products fold into accWidth
  // lanes instead.
  int64_t accWidth = vectorized ? std::min<int64_t>(steps.chunkWidth, kMaxAccumulatorWidth) : 1;
  Type chunkType = vectorized ? Type(VectorType::get({steps.chunkWidth}, f32)) : f32;
  Type accType = vectorized ? Type(VectorType::get({accWidth}, f32)) : f32;
  // A chunk of x (or of the norm weight g) at column kk + offset.
  auto load = [&](Value memref, ValueRange indices) -> Value {
    if (!vectorized)
      return kb.loadF32(memref, indices);
    Type element = cast<MemRefType>(memref.getType()).getElementType();
    auto v = vector::LoadOp::create(b, loc, VectorType::get({steps.chunkWidth}, element), memref,
                                    indices);
    v.setAlignment(std::min<int64_t>(16, steps.chunkWidth * element.getIntOrFloatBitWidth() / 8));
    return element.isF32() ? Value(v)
                           : arith::ExtFOp::create(b, loc, chunkType, v.getResult()).getResult();
  };
  // acc + a·c, a and c whole chunks, folded into acc's accWidth lanes.
  auto fma = [&](Value a, Value c, Value acc) -> Value {
    if (!vectorized)
      return arith::AddFOp::create(b, loc, acc, arith::MulFOp::create(b, loc, a, c));
    for (int64_t at = 0; at < steps.chunkWidth; at += accWidth) {
      auto part = [&](Value v) -> Value {
        if (accWidth == steps.chunkWidth)
          return v;
        return vector::ExtractStridedSliceOp::create(b, loc, v, ArrayRef<int64_t>{at},
                                                     ArrayRef<int64_t>{accWidth},
                                                     ArrayRef<int64_t>{1});
      };
      acc = vector::FMAOp::create(b, loc, part(a), part(c), acc);
    }
    return acc;
  };
  Value zero = vectorized ? Value(arith::ConstantOp::create(
                                b, loc, DenseElementsAttr::get(cast<VectorType>(accType),
                                                               b.getF32FloatAttr(0))))
                          : kb.f32(0);
  // One stream per weight and row, each with its own accumulator per token.
  size_t streams = weights.size() * rows.size();
  size_t dots = streams * xRows.size();
  // The dot products, then (with a norm) each token's Σx².
  SmallVector<Value> init(dots + (norm ? xRows.size() : 0), zero);
  int64_t stride = width * kb.target.subgroupSize * split.parts;
  // The thread's place among the lanes taking the row's steps together.
  Value position = split.lane;
  if (split.parts > 1)
    position = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, split.part, kb.index(kb.target.subgroupSize)),
        position);
  Value start = arith::MulIOp::create(b, loc, position, kb.index(width));
  SmallVector<Value> acc = kb.forLoop(
      start, kb.index(k), kb.index(stride), init,
      [&](Value kk, ValueRange iter) {
        SmallVector<Value> next(iter.begin(), iter.end());
        // The step of every weight first, then one token's chunk of x at a
        // time feeding all of them: only one token's activations are live.
        SmallVector<SmallVector<Value>> wv;
        for (const GpuWeight &w : weights)
          for (Value row : rows)
            wv.push_back(loadWeightStep(kb, w, steps, row, kk));
        SmallVector<Value> columns, gs;
        for (int64_t c = 0; c < steps.chunks; ++c) {
          columns.push_back(
              c == 0 ? kk : arith::AddIOp::create(b, loc, kk, kb.index(c * steps.chunkWidth)));
          gs.push_back(norm ? load(norm->weight, {columns[c]}) : Value());
        }
        for (auto [t, xRow] : llvm::enumerate(xRows))
          for (int64_t c = 0; c < steps.chunks; ++c) {
            SmallVector<Value> at(xRow);
            at.push_back(columns[c]);
            Value xv = load(x, at);
            if (norm) {
              next[dots + t] = fma(xv, xv, next[dots + t]);
              xv = arith::MulFOp::create(b, loc, gs[c], xv);
            }
            for (size_t i = 0; i < streams; ++i) {
              size_t slot = i * xRows.size() + t;
              next[slot] = fma(wv[i][c], xv, next[slot]);
            }
          }
        return next;
      });
  // Several loads in flight per lane: a subgroup's loop body is one
  // 16-byte weight load per lane, so unrolled it keeps the memory system
  // busy with fewer resident subgroups (decode's grids are a few blocks per
  // SM). Token blocks already have one load per token. A quantized row is
  // a few steps long (int4: 32 columns a lane-step, 4 steps for K = 4096 on
  // a warp), so it unrolls as soon as it has the unroll's steps.
  int64_t trips = k / stride;
  int64_t unroll = xRows.size() == 1 ? 4 : xRows.size() == 2 ? 2 : 1;
  // An int4 step is two chunks of 16 columns (32 activations live per
  // step): four steps in flight spilled registers in the kernels with a
  // norm or several weights (255 registers and a stack frame, sm_90).
  if (steps.chunks > 1)
    unroll = std::max<int64_t>(1, unroll / 2);
  int64_t minTrips = weights.front().isQuantized() ? unroll : 2 * unroll;
  auto loop = acc.front().getDefiningOp<scf::ForOp>();
  SmallVector<Value> sums;
  for (Value v : acc) {
    if (vectorized)
      v = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, v);
    sums.push_back(kb.subgroupSum(v));
  }
  // The block's parts of each sum, added in the order of the parts (the
  // same order for every token and block: verify's rows equal decode's).
  if (split.parts > 1)
    sums = kb.blockSums(sums, split.scratch, split.part, split.lane, split.parts);
  // Unrolled last: the remainder loop it may add takes over the results.
  if (unroll > 1 && trips >= minTrips)
    (void)loopUnrollByFactor(loop, unroll);
  // int8: each row's scale, once per dot product.
  for (auto [i, w] : llvm::enumerate(weights))
    for (auto [r, row] : llvm::enumerate(rows))
      if (Value scale = rowScale(kb, w, row))
        for (size_t t = 0; t < xRows.size(); ++t) {
          size_t slot = (i * rows.size() + r) * xRows.size() + t;
          sums[slot] = arith::MulFOp::create(b, loc, sums[slot], scale);
        }
  if (!norm)
    return sums;
  SmallVector<Value> inverse;
  for (size_t t = 0; t < xRows.size(); ++t)
    inverse.push_back(buildInverseRms(b, loc, sums[dots + t], kb.f32(static_cast<double>(k)),
                                      kb.f32(norm->op.getEps().convertToFloat())));
  SmallVector<Value> scaled;
  for (size_t i = 0; i < dots; ++i)
    scaled.push_back(arith::MulFOp::create(b, loc, sums[i], inverse[i % xRows.size()]));
  return scaled;
}

FailureOr<GpuLaunchDims> mlir::llama::emitGemvKernel(GpuKernelBuilder &kb, Operation *op,
                                                     const IRMapping &operands,
                                                     ArrayRef<Value> results) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto projection = dyn_cast<ProjectionOpInterface>(op);
  if (!projection)
    return failure();
  RMSNormOp norm = projection.getInputNorm();
  Value x = operands.lookup(norm ? norm.getInput() : projection.getInput());
  int64_t tokens = staticDim(x, 0);

  // Output features of each result, laid end to end along grid x.
  int64_t totalRows = projection.getOutputFeatures();
  // Each result's weights, as the kernel reads them.
  SmallVector<SmallVector<GpuWeight>> resultWeights;
  for (unsigned i = 0; i < projection->getNumResults(); ++i) {
    resultWeights.emplace_back();
    for (Value w : projection.getResultWeights(i))
      resultWeights.back().push_back(GpuWeight::lookup(w, operands));
  }

  Value tid = kb.threadId(gpu::Dimension::x);
  Value subgroup = kb.index(kb.target.subgroupSize);
  Value lane = arith::RemUIOp::create(b, loc, tid, subgroup);
  Value warp = arith::DivUIOp::create(b, loc, tid, subgroup);
  // The block's tokens; each reads its own row of x.
  int64_t block = tokensPerBlock(tokens, kb.verifyTokens);
  // Each subgroup's consecutive rows: the first of them, and the others.
  int64_t perSubgroup = rowsPerSubgroup(resultWeights, block);
  KSplit split;
  split.lane = lane;
  // Subgroups on their own rows (rowGroups of them a block), or all on the
  // same rows, each a part of the columns.
  int64_t rowGroups = kSubgroupsPerBlock;
  Value rowGroup = warp;
  if (kb.target.gemvSplitK) {
    split.parts = kSubgroupsPerBlock;
    split.part = warp;
    rowGroups = 1;
    rowGroup = kb.index(0);
    // One slot per dot product (and token's Σx²) of the widest branch.
    int64_t slots = 0;
    for (const SmallVector<GpuWeight> &weights : resultWeights)
      slots = std::max<int64_t>(slots, static_cast<int64_t>(weights.size()) * perSubgroup * block);
    slots += norm ? block : 0;
    split.scratch = kb.sharedBuffer({split.parts, slots});
  }
  Value row = arith::MulIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, kb.blockId(gpu::Dimension::x), kb.index(rowGroups)),
          rowGroup),
      kb.index(perSubgroup));
  auto rowsFrom = [&](Value base) {
    SmallVector<Value> rows{base};
    for (int64_t r = 1; r < perSubgroup; ++r)
      rows.push_back(arith::AddIOp::create(b, loc, base, kb.index(r)));
    return rows;
  };
  // The thread that writes a row group's results: lane 0 of its subgroup,
  // or of the block's first when the subgroups split the columns.
  Value isLane0 = kb.cmp(arith::CmpIPredicate::eq, split.parts > 1 ? tid : lane, kb.index(0));
  Value first = arith::MulIOp::create(b, loc, kb.blockId(gpu::Dimension::y), kb.index(block));
  SmallVector<Value> tokenIds;
  SmallVector<SmallVector<Value>> xRows;
  for (int64_t t = 0; t < block; ++t) {
    tokenIds.push_back(arith::AddIOp::create(b, loc, first, kb.index(t)));
    xRows.push_back({tokenIds.back()});
  }
  std::optional<FusedNorm> fused;
  if (norm)
    fused = FusedNorm{norm, operands.lookup(norm.getWeight())};

  if (projection.getEpilogue() == ProjectionEpilogue::SwiGLU) {
    // One result: the gate's and up's sums of each row meet in SwiGLU.
    ArrayRef<GpuWeight> gateAndUp = resultWeights[0];
    kb.ifThen(kb.cmp(arith::CmpIPredicate::ult, row, kb.index(totalRows)), [&] {
      SmallVector<Value> rows = rowsFrom(row);
      SmallVector<Value> sums = subgroupDots(kb, x, gateAndUp, xRows, rows, split, fused);
      kb.ifThen(isLane0, [&] {
        for (auto [r, outRow] : llvm::enumerate(rows))
          for (int64_t t = 0; t < block; ++t) {
            Value gate = sums[r * block + t];
            Value up = sums[(perSubgroup + r) * block + t];
            Value out = arith::MulFOp::create(b, loc, buildSilu(b, loc, gate), up);
            kb.storeF32(out, results[0], {tokenIds[t], outRow});
          }
      });
    });
  } else {
    Value residual;
    if (Value r = projection.getResidual())
      residual = operands.lookup(r);
    // One weight per result. Each subgroup's rows are uniform and lie in one
    // result (rowsPerSubgroup divides each), so the branches never split a
    // subgroup (the shuffles inside need every lane).
    int64_t firstRow = 0;
    for (auto [i, out] : llvm::enumerate(results)) {
      const GpuWeight &w = resultWeights[i].front();
      int64_t rows = w.rows();
      Value inRange = arith::AndIOp::create(
          b, loc, kb.cmp(arith::CmpIPredicate::uge, row, kb.index(firstRow)),
          kb.cmp(arith::CmpIPredicate::ult, row, kb.index(firstRow + rows)));
      kb.ifThen(inRange, [&, out = out, firstRow = firstRow] {
        SmallVector<Value> locals =
            rowsFrom(arith::SubIOp::create(b, loc, row, kb.index(firstRow)));
        SmallVector<Value> sums = subgroupDots(kb, x, {w}, xRows, locals, split, fused);
        kb.ifThen(isLane0, [&] {
          for (auto [r, local] : llvm::enumerate(locals))
            for (int64_t t = 0; t < block; ++t) {
              Value value = sums[r * block + t];
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
  int64_t rowsPerBlock = rowGroups * perSubgroup;
  dims.grid = {(totalRows + rowsPerBlock - 1) / rowsPerBlock, tokens / block, 1};
  dims.block = {kb.target.subgroupSize * kSubgroupsPerBlock, 1, 1};
  return dims;
}
