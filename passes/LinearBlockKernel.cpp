//===- LinearBlockKernel.cpp - one block of a CPU linear layer ------------===//
//
// See LinearBlockKernel.h.
//
//===----------------------------------------------------------------------===//

#include "passes/LinearBlockKernel.h"

#include "passes/QuantizedLinear.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

namespace mlir::llama::cpu {

/// 2 * lanes bf16 values as f32 vectors of their odd elements and of
/// their even ones (see BF16PairFma).
SmallVector<Value> LinearBlockKernel::splitPairs(OpBuilder &b, Location l, Value pairs) const {
  auto i32Type = VectorType::get({lanes}, b.getI32Type());
  auto f32Type = VectorType::get({lanes}, b.getF32Type());
  Value words = vector::BitCastOp::create(b, l, i32Type, pairs);
  auto splat = [&](int32_t v) {
    return arith::ConstantOp::create(b, l, DenseElementsAttr::get(i32Type, b.getI32IntegerAttr(v)));
  };
  Value odd = arith::AndIOp::create(b, l, words, splat(static_cast<int32_t>(0xffff0000u)));
  Value even = arith::ShLIOp::create(b, l, words, splat(16));
  return {vector::BitCastOp::create(b, l, f32Type, odd),
          vector::BitCastOp::create(b, l, f32Type, even)};
}

/// Reduces each (row, token) accumulator of a block (accumulator (r, t)
/// at r * tokens + t) and adds the sum, with its k tail and its int8
/// corrections and scale, onto out[token, row].
void LinearBlockKernel::addBlockSums(OpBuilder &b, Location l, const BlockStep &step,
                                     ArrayRef<Value> accs, Value out, int64_t k, int64_t vectorK,
                                     bool dot) const {
  const WeightStream &ws = step.ws;
  Type f32 = b.getF32Type();
  int64_t rowBlock = step.rows.size(), tokBlock = step.tokens.size();
  for (int64_t r = 0; r < rowBlock; ++r)
    for (int64_t t = 0; t < tokBlock; ++t) {
      Value sum = vector::ReductionOp::create(b, l, vector::CombiningKind::ADD,
                                              accs[r * tokBlock + t],
                                              arith::FastMathFlags::reassoc);
      // int8 integer dots: take off what the sign flip added.
      if (ws.intDot && ws.format == WeightStream::Format::Int8)
        sum = arith::SubFOp::create(
            b, l, sum,
            memref::LoadOp::create(b, l, step.acts->signCorrection,
                                   ValueRange{step.tokens[t]}));
      // The k tail, when k is not a multiple of the chunk.
      if (vectorK < k)
        sum = buildScalarTail(b, l, step, r, t, sum, vectorK, k, dot);
      // int8: the row's scale multiplies the whole dot product.
      if (ws.format == WeightStream::Format::Int8)
        sum = arith::MulFOp::create(
            b, l, sum,
            arith::ExtFOp::create(
                b, l, f32,
                memref::LoadOp::create(b, l, ws.scales, ValueRange{step.rows[r]}).getResult()));
      // The destination holds the generic's initial value (zero).
      ValueRange at{step.tokens[t], step.rows[r]};
      Value old = memref::LoadOp::create(b, l, out, at);
      memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, sum), out, at);
    }
}


/// The vector part of the k loop, [0, vectorK): one loop over the chunks,
/// or for int4 a loop over the groups (whose scales and zeros each row
/// loads once) around a loop over the group's chunks, then the vector
/// chunks of a last, partial group; int8 integer dots the same loops over
/// activation blocks (their int32 sums scaled by d once per block).
SmallVector<Value> LinearBlockKernel::buildVectorK(OpBuilder &b, Location l, const BlockStep &step,
                                                   SmallVector<Value> accs, int64_t vectorK) const {
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
  bool int4 = step.ws.format == WeightStream::Format::Int4;
  if (!int4 && !step.ws.intDot)
    return buildChunks(b, l, step, idx(0), idx(vectorK), accs, {});
  // Groups of 32: two per chunk, scaled per lane; offsets in the lanes.
  if (int4 && step.ws.intDot && step.ws.group % llama::kIntDotChunk != 0)
    return llama::buildPairedGroupDots(
        b, l,
        {step.ws.values, step.ws.scales, step.ws.zeros, step.acts, step.rows, step.tokens,
         step.prefetchRows},
        vectorK, accs);
  auto group = [&](OpBuilder &b, Location l, Value g, Value begin, Value end,
                   ValueRange in) -> SmallVector<Value> {
    SmallVector<GroupParams> params;
    if (int4)
      params = groupParams(b, l, step, g);
    if (!step.ws.intDot)
      return buildChunks(b, l, step, begin, end, in, params);
    // Integer dots: the block's products add up in int32 lanes, then
    // count once, times the token's block scale d (int4: then times the
    // row's s, a vector made once per row: no scalar d * s per (row,
    // token), where a prefill block's 12 cost as many instructions as its
    // 24 vpdpbusd). int4's offsets come after the loop (addGroupOffsets).
    Value none = arith::ConstantOp::create(
        b, l, DenseElementsAttr::get(VectorType::get({lanes}, b.getI32Type()),
                                     b.getI32IntegerAttr(0)));
    SmallVector<Value> sums = buildChunks(b, l, step, begin, end,
                                          SmallVector<Value>(in.size(), none), params);
    auto accType = VectorType::get({lanes}, b.getF32Type());
    SmallVector<Value> out;
    for (size_t r = 0; r < step.rows.size(); ++r)
      for (auto [t, token] : llvm::enumerate(step.tokens)) {
        size_t i = r * step.tokens.size() + t;
        Value d = vector::BroadcastOp::create(
            b, l, accType,
            memref::LoadOp::create(b, l, step.acts->blockScales, ValueRange{token, g}));
        Value sum = arith::SIToFPOp::create(b, l, accType, sums[i]);
        out.push_back(int4 ? vector::FMAOp::create(b, l, arith::MulFOp::create(b, l, sum, d),
                                                   params[r].scale, in[i])
                           : vector::FMAOp::create(b, l, sum, d, in[i]));
      }
    return out;
  };
  int64_t size = step.ws.intDot ? step.ws.intBlock : step.ws.group,
          fullGroups = vectorK / size;
  if (fullGroups > 0) {
    auto loop = scf::ForOp::create(
        b, l, idx(0), idx(fullGroups), idx(1), accs,
        [&](OpBuilder &b, Location l, Value g, ValueRange iter) {
          Value begin = arith::MulIOp::create(b, l, g, arith::ConstantIndexOp::create(b, l, size));
          Value end = arith::AddIOp::create(b, l, begin, arith::ConstantIndexOp::create(b, l, size));
          scf::YieldOp::create(b, l, group(b, l, g, begin, end, iter));
        });
    accs.assign(loop.getResults().begin(), loop.getResults().end());
  }
  if (vectorK > fullGroups * size)
    accs = group(b, l, idx(fullGroups), idx(fullGroups * size), idx(vectorK), accs);
  if (int4 && step.ws.intDot)
    accs = addGroupOffsets(b, l, step, accs, (vectorK + size - 1) / size);
  return accs;
}

/// Each group's offset z - 8 s times the token's d * sum(q) of the same
/// columns, added into the f32 lanes of every (row, token) accumulator
/// (whose lanes the block's reduction sums anyway): per span of up to
/// `lanes` groups a vector of the row's offsets and one of the token's
/// sums, one fma per (row, token) (llama::addGroupOffsetProducts, as the
/// groups of 32 do). Per group and (row, token) that was three scalar
/// instructions in the k loop.
SmallVector<Value> LinearBlockKernel::addGroupOffsets(OpBuilder &b, Location l,
                                                      const BlockStep &step, ValueRange accs,
                                                      int64_t groups) const {
  Type f32 = b.getF32Type();
  size_t tokens = step.tokens.size();
  auto span = [&](OpBuilder &b, Location l, Value first, int64_t count,
                  ValueRange in) -> SmallVector<Value> {
    SmallVector<Value> sums;
    for (Value token : step.tokens)
      sums.push_back(vector::LoadOp::create(b, l, VectorType::get({count}, f32),
                                            step.acts->blockSums, ValueRange{token, first}));
    SmallVector<Value> out(in.begin(), in.end());
    for (auto [r, row] : llvm::enumerate(step.rows)) {
      Value offsets =
          llama::loadGroupSpan(b, l, step.ws.scales, step.ws.zeros, row, first, count).offsets;
      for (size_t t = 0; t < tokens; ++t)
        out[r * tokens + t] = llama::addGroupOffsetProducts(b, l, out[r * tokens + t], offsets,
                                                            sums[t]);
    }
    return out;
  };
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
  SmallVector<Value> out(accs.begin(), accs.end());
  int64_t spans = groups / lanes, rest = groups % lanes;
  if (spans > 0) {
    auto loop = scf::ForOp::create(
        b, l, idx(0), idx(spans), idx(1), out,
        [&](OpBuilder &b, Location l, Value s, ValueRange iter) {
          Value first = arith::MulIOp::create(b, l, s, arith::ConstantIndexOp::create(b, l, lanes));
          scf::YieldOp::create(b, l, span(b, l, first, lanes, iter));
        });
    out.assign(loop.getResults().begin(), loop.getResults().end());
  }
  if (rest > 0)
    out = span(b, l, idx(spans * lanes), rest, out);
  return out;
}

/// Whether a block's 64-byte int4 steps multiply the high nibbles in place
/// (byte & 0xF0: a mask, no shift): decode. Their products are 16 times
/// the nibbles', so each step's go into a sum of their own, shifted right
/// by 4 (exact) and taken as the accumulator of the low nibbles'
/// vpdpbusd. Blocks of several tokens shift the weights' high nibbles
/// down once for all tokens instead (byte >> 4) and add both vpdpbusd.
static bool highNibblesInPlace(const BlockStep &step) {
  return step.ws.wideSteps && step.tokens.size() == 1;
}

/// Per row of the block, the int4 group `g`'s scale and offset.
SmallVector<GroupParams> LinearBlockKernel::groupParams(OpBuilder &b, Location l,
                                                        const BlockStep &step, Value g) const {
  Type f32 = b.getF32Type();
  auto vec = VectorType::get({lanes}, f32);
  SmallVector<GroupParams> params;
  for (Value row : step.rows) {
    Value s = arith::ExtFOp::create(
        b, l, f32, memref::LoadOp::create(b, l, step.ws.scales, ValueRange{row, g}).getResult());
    Value z = arith::ExtFOp::create(
        b, l, f32, memref::LoadOp::create(b, l, step.ws.zeros, ValueRange{row, g}).getResult());
    Value eight = arith::ConstantOp::create(b, l, b.getF32FloatAttr(8.0f));
    Value m = arith::SubFOp::create(b, l, z, arith::MulFOp::create(b, l, eight, s));
    params.push_back(
        {vector::BroadcastOp::create(b, l, vec, s), vector::BroadcastOp::create(b, l, vec, m)});
  }
  return params;
}

/// The weights of `row` for the chunk at column `kk`, as `parts` f32
/// vectors (bf16 pairs for vdpbf16ps); integer dots: byte vectors (int4
/// in 64-byte steps: the low nibbles and the high ones, in place with
/// `highInPlace`).
SmallVector<Value> LinearBlockKernel::loadWeights(OpBuilder &b, Location l, const WeightStream &ws,
                                                  Value row, Value kk, const GroupParams *params,
                                                  bool highInPlace) const {
  Type f32 = b.getF32Type();
  auto accType = VectorType::get({lanes}, f32);
  // Integer dots: 64 unsigned bytes.
  if (ws.intDot && ws.format == WeightStream::Format::Int8)
    return {llama::flipSign(b, l,
                            vector::LoadOp::create(b, l, VectorType::get({64}, b.getI8Type()),
                                                   ws.values, ValueRange{row, kk}))};
  if (ws.wideSteps) {
    Value byte = arith::DivUIOp::create(b, l, kk, arith::ConstantIndexOp::create(b, l, 2));
    auto [low, high] = llama::splitNibbles(
        b, l,
        vector::LoadOp::create(b, l, VectorType::get({64}, b.getI8Type()), ws.values,
                               ValueRange{row, byte}),
        highInPlace);
    return {low, high};
  }
  if (ws.intDot) {
    Value byte = arith::DivUIOp::create(b, l, kk, arith::ConstantIndexOp::create(b, l, 2));
    return {llama::unpackNibbles(
        b, l,
        vector::LoadOp::create(b, l, VectorType::get({32}, b.getI8Type()), ws.values,
                               ValueRange{row, byte}))};
  }
  switch (ws.format) {
  case WeightStream::Format::BF16Dot:
    return {vector::LoadOp::create(b, l, VectorType::get({ws.chunk}, ws.elementType), ws.values,
                                   ValueRange{row, kk})};
  case WeightStream::Format::BF16PairFma:
    return splitPairs(b, l,
                      vector::LoadOp::create(b, l, VectorType::get({ws.chunk}, ws.elementType),
                                             ws.values, ValueRange{row, kk}));
  case WeightStream::Format::Float: {
    Value wv = vector::LoadOp::create(b, l, VectorType::get({ws.chunk}, ws.elementType),
                                      ws.values, ValueRange{row, kk});
    if (ws.elementType != f32)
      wv = arith::ExtFOp::create(b, l, accType, wv);
    return {wv};
  }
  case WeightStream::Format::Int8: {
    Value q = vector::LoadOp::create(b, l, VectorType::get({lanes}, b.getI8Type()), ws.values,
                                     ValueRange{row, kk});
    return {arith::SIToFPOp::create(b, l, accType, q)};
  }
  case WeightStream::Format::Int4: {
    // 16 bytes hold the chunk's 32 nibbles: widen to i32 lanes, then the
    // low nibbles (columns kk..kk+15) and high ones (kk+16..kk+31).
    Value byte = arith::DivUIOp::create(b, l, kk, arith::ConstantIndexOp::create(b, l, 2));
    auto i32Type = VectorType::get({lanes}, b.getI32Type());
    Value packed = vector::LoadOp::create(b, l, VectorType::get({lanes}, b.getI8Type()),
                                          ws.values, ValueRange{row, byte});
    Value wide = arith::ExtUIOp::create(b, l, i32Type, packed);
    auto splat = [&](int32_t v) {
      return arith::ConstantOp::create(b, l,
                                       DenseElementsAttr::get(i32Type, b.getI32IntegerAttr(v)));
    };
    Value low = arith::AndIOp::create(b, l, wide, splat(15));
    Value high = arith::ShRUIOp::create(b, l, wide, splat(4));
    SmallVector<Value> parts;
    for (Value nibbles : {low, high}) {
      Value q = arith::UIToFPOp::create(b, l, accType, nibbles);
      parts.push_back(vector::FMAOp::create(b, l, q, params->scale, params->offset));
    }
    return parts;
  }
  }
  return {};
}

/// for kk in [begin, end) step chunk: every (row, token) accumulator of
/// the block += the products of the chunk. `params`: int4's per-row group
/// scale and offset.
SmallVector<Value> LinearBlockKernel::buildChunks(OpBuilder &b, Location l, const BlockStep &step,
                                                  Value begin, Value end, ValueRange accs,
                                                  ArrayRef<GroupParams> params) const {
  const WeightStream &ws = step.ws;
  bool dot = ws.format == WeightStream::Format::BF16Dot;
  Type f32 = b.getF32Type();
  auto accType = VectorType::get({lanes}, f32);
  int64_t tokBlock = step.tokens.size(), rowBlock = step.rows.size();
  Value kStep = arith::ConstantIndexOp::create(b, l, ws.chunk);
  auto loop = scf::ForOp::create(
      b, l, begin, end, kStep, accs,
      [&](OpBuilder &b, Location l, Value kk, ValueRange accs) {
        // Each token's activations are loaded once per chunk for all rows.
        SmallVector<SmallVector<Value>> xs(tokBlock);
        for (int64_t t = 0; t < tokBlock; ++t) {
          if (ws.intDot) {
            // The token's 64 bytes (buildVectorK scales whole blocks); in
            // 64-byte int4 steps 128: the low nibbles' then the high ones'.
            for (int64_t at = 0; at < ws.chunk; at += 64) {
              Value col = at == 0 ? kk
                                  : arith::AddIOp::create(
                                        b, l, kk, arith::ConstantIndexOp::create(b, l, at))
                                        .getResult();
              xs[t].push_back(vector::LoadOp::create(b, l, VectorType::get({64}, b.getI8Type()),
                                                     step.acts->values,
                                                     ValueRange{step.tokens[t], col}));
            }
            continue;
          }
          if (dot) {
            xs[t].push_back(vector::LoadOp::create(b, l, VectorType::get({ws.chunk}, b.getBF16Type()),
                                                   step.xBf16, ValueRange{step.tokens[t], kk}));
            continue;
          }
          // FMA pairs in prefill: the rounded copy, split here.
          if (ws.format == WeightStream::Format::BF16PairFma &&
              cast<MemRefType>(step.xBf16.getType()).getElementType().isBF16()) {
            xs[t] = splitPairs(
                b, l,
                vector::LoadOp::create(b, l, VectorType::get({ws.chunk}, b.getBF16Type()),
                                       step.xBf16, ValueRange{step.tokens[t], kk}));
            continue;
          }
          // Otherwise FMA pairs read the split copy (odd columns, then even).
          Value source = ws.format == WeightStream::Format::BF16PairFma ? step.xBf16 : step.x;
          for (int64_t p = 0; p < ws.parts; ++p) {
            Value col = p == 0 ? kk
                               : arith::AddIOp::create(
                                     b, l, kk, arith::ConstantIndexOp::create(b, l, p * lanes))
                                     .getResult();
            xs[t].push_back(vector::LoadOp::create(b, l, accType, source,
                                                   ValueRange{step.tokens[t], col}));
          }
        }
        if (!step.prefetchRows.empty()) {
          Value at = ws.format == WeightStream::Format::Int4
                         ? arith::DivUIOp::create(b, l, kk,
                                                  arith::ConstantIndexOp::create(b, l, 2))
                               .getResult()
                         : kk;
          for (Value r : step.prefetchRows)
            memref::PrefetchOp::create(b, l, ws.values, ValueRange{r, at},
                                       /*isWrite=*/false, /*localityHint=*/2,
                                       /*isDataCache=*/true);
        }
        bool highInPlace = highNibblesInPlace(step);
        SmallVector<Value> next;
        for (int64_t r = 0; r < rowBlock; ++r) {
          const GroupParams *rowParams = params.empty() ? nullptr : &params[r];
          SmallVector<Value> wv =
              loadWeights(b, l, ws, step.rows[r], kk, rowParams, highInPlace);
          for (int64_t t = 0; t < tokBlock; ++t) {
            Value acc = accs[r * tokBlock + t];
            if (highInPlace) {
              // acc + high / 16 as the low nibbles' accumulator: a group
              // of one step (G = 128) adds to no zeroed register.
              Value high = llama::vnniDot(b, l, wv[1], xs[t][1]);
              Value four = arith::ConstantOp::create(
                  b, l, DenseElementsAttr::get(cast<VectorType>(high.getType()),
                                               b.getI32IntegerAttr(4)));
              acc = arith::AddIOp::create(b, l, acc, arith::ShRSIOp::create(b, l, high, four));
              next.push_back(llama::vnniDot(b, l, wv[0], xs[t][0], acc));
              continue;
            }
            if (ws.intDot) {
              // The block's int32 sums (buildVectorK scales them).
              for (size_t p = 0; p < wv.size(); ++p)
                acc = llama::vnniDot(b, l, wv[p], xs[t][p], acc);
              next.push_back(acc);
              continue;
            }
            for (size_t p = 0; p < wv.size(); ++p)
              acc = dot ? x86vector::DotBF16Op::create(b, l, accType, acc, xs[t][p], wv[p])
                              .getResult()
                        : vector::FMAOp::create(b, l, wv[p], xs[t][p], acc).getResult();
            next.push_back(acc);
          }
        }
        scf::YieldOp::create(b, l, next);
      });
  return SmallVector<Value>(loop.getResults().begin(), loop.getResults().end());
}

/// sum + the scalar products of columns [vectorK, k) for row r, token t
/// (int8: before the row's scale, which the caller applies).
Value LinearBlockKernel::buildScalarTail(OpBuilder &b, Location l, const BlockStep &step, int64_t r,
                                         int64_t t, Value sum, int64_t vectorK, int64_t k,
                                         bool dot) const {
  const WeightStream &ws = step.ws;
  Type f32 = b.getF32Type(), bf16 = b.getBF16Type();
  Value row = step.rows[r], token = step.tokens[t];
  auto tail = scf::ForOp::create(
      b, l, arith::ConstantIndexOp::create(b, l, vectorK), arith::ConstantIndexOp::create(b, l, k),
      arith::ConstantIndexOp::create(b, l, 1), ValueRange{sum},
      [&](OpBuilder &b, Location l, Value kk, ValueRange acc) {
        Value xs = memref::LoadOp::create(b, l, step.x, ValueRange{token, kk});
        // The same bf16 rounding as the vector chunks.
        if (dot)
          xs = arith::ExtFOp::create(b, l, f32,
                                     arith::TruncFOp::create(b, l, bf16, xs).getResult());
        Value w;
        switch (ws.format) {
        case WeightStream::Format::Float:
        case WeightStream::Format::BF16Dot:
        case WeightStream::Format::BF16PairFma:
          w = memref::LoadOp::create(b, l, ws.values, ValueRange{row, kk});
          if (w.getType() != f32)
            w = arith::ExtFOp::create(b, l, f32, w);
          break;
        case WeightStream::Format::Int8:
          w = arith::SIToFPOp::create(
              b, l, f32, memref::LoadOp::create(b, l, ws.values, ValueRange{row, kk}));
          break;
        case WeightStream::Format::Int4: {
          Value byte = memref::LoadOp::create(b, l, ws.values,
                                              ValueRange{row, llama::int4ByteIndex(b, l, kk)});
          Value g = arith::DivUIOp::create(b, l, kk,
                                           arith::ConstantIndexOp::create(b, l, ws.group));
          auto param = [&](Value tensor) {
            return arith::ExtFOp::create(b, l, f32,
                                         memref::LoadOp::create(b, l, tensor, ValueRange{row, g}).getResult())
                .getResult();
          };
          w = llama::dequantizeScalar(b, l, llama::QuantKind::Int4, byte, kk, param(ws.scales),
                                      param(ws.zeros));
          break;
        }
        }
        Value p = arith::MulFOp::create(b, l, xs, w);
        scf::YieldOp::create(b, l, ValueRange{arith::AddFOp::create(b, l, acc[0], p)});
      });
  return tail.getResult(0);
}

} // namespace mlir::llama::cpu
