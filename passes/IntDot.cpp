//===- IntDot.cpp - integer dot products for quantized weights ------------===//

#include "passes/IntDot.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::llama;

namespace {

Value index(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value splat(OpBuilder &b, Location loc, VectorType type, Attribute value) {
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, value));
}

} // namespace

namespace {

/// Scale and byte rounding of one block: d = max|x| / 127 and 1 / d (0 for
/// an all-zero block, whose bytes are then 0).
std::pair<Value, Value> blockScale(OpBuilder &b, Location l, Value amax) {
  Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
  Value d = arith::DivFOp::create(b, l, amax,
                                  arith::ConstantOp::create(b, l, b.getF32FloatAttr(127)));
  Value positive = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, amax, zero);
  Value inverse = arith::SelectOp::create(
      b, l, positive,
      arith::DivFOp::create(b, l, arith::ConstantOp::create(b, l, b.getF32FloatAttr(1)), d),
      zero);
  return {d, inverse};
}

/// round-to-even(v * inverse) as int32 lanes.
Value roundToBytes(OpBuilder &b, Location l, Value v, Value inverse) {
  auto type = cast<VectorType>(v.getType());
  Value inv = vector::BroadcastOp::create(b, l, type, inverse);
  Value r = math::RoundEvenOp::create(b, l, arith::MulFOp::create(b, l, v, inv));
  return arith::FPToSIOp::create(b, l, VectorType::get(type.getShape(), b.getI32Type()), r);
}

Value maxAbs(OpBuilder &b, Location l, Value v, Value max) {
  return arith::MaximumFOp::create(b, l, max, math::AbsFOp::create(b, l, v));
}

/// int8: blocks of 32 in column order, a lane scale vector per chunk, the
/// per-token sign-flip correction.
void quantizeInt8Layout(OpBuilder &b, Location loc, Value x, Value tokens, int64_t k,
                        QuantizedActivations &a) {
  Type f32 = b.getF32Type();
  auto v16f = VectorType::get({16}, f32);
  auto v16i8 = VectorType::get({16}, b.getI8Type());
  // Lane l of a chunk's dot product sums bytes 4l..4l+3: lanes 0-7 are
  // block 0, lanes 8-15 block 1.
  SmallVector<bool> secondBlock;
  for (int64_t lane = 0; lane < 16; ++lane)
    secondBlock.push_back(lane >= 8);
  Value laneIsSecond = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(VectorType::get({16}, b.getI1Type()), secondBlock));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value zeros = splat(b, loc, v16f, b.getF32FloatAttr(0));
  scf::ForOp::create(
      b, loc, index(b, loc, 0), tokens, index(b, loc, 1), ValueRange{},
      [&](OpBuilder &b, Location l, Value n, ValueRange) {
        auto chunkLoop = scf::ForOp::create(
            b, l, index(b, l, 0), index(b, l, k / kIntDotChunk), index(b, l, 1),
            ValueRange{zero}, [&](OpBuilder &b, Location l, Value c, ValueRange correction) {
              Value base = arith::MulIOp::create(b, l, c, index(b, l, kIntDotChunk));
              SmallVector<Value> scales;
              Value corr = correction[0];
              for (int64_t half = 0; half < 2; ++half) {
                Value col = arith::AddIOp::create(b, l, base, index(b, l, 32 * half));
                Value col16 = arith::AddIOp::create(b, l, col, index(b, l, 16));
                Value lo = vector::LoadOp::create(b, l, v16f, x, ValueRange{n, col});
                Value hi = vector::LoadOp::create(b, l, v16f, x, ValueRange{n, col16});
                Value amax = vector::ReductionOp::create(
                    b, l, vector::CombiningKind::MAXNUMF, maxAbs(b, l, hi, maxAbs(b, l, lo, zeros)));
                auto [d, inverse] = blockScale(b, l, amax);
                Value qlo = roundToBytes(b, l, lo, inverse), qhi = roundToBytes(b, l, hi, inverse);
                vector::StoreOp::create(b, l, arith::TruncIOp::create(b, l, v16i8, qlo), a.values,
                                        ValueRange{n, col});
                vector::StoreOp::create(b, l, arith::TruncIOp::create(b, l, v16i8, qhi), a.values,
                                        ValueRange{n, col16});
                Value sum = vector::ReductionOp::create(b, l, vector::CombiningKind::ADD,
                                                        arith::AddIOp::create(b, l, qlo, qhi));
                corr = arith::AddFOp::create(
                    b, l, corr, arith::MulFOp::create(b, l, d, arith::SIToFPOp::create(b, l, f32, sum)));
                scales.push_back(vector::BroadcastOp::create(b, l, v16f, d));
              }
              Value lanes = arith::SelectOp::create(b, l, laneIsSecond, scales[1], scales[0]);
              vector::StoreOp::create(b, l, lanes, a.laneScales, ValueRange{n, c, index(b, l, 0)});
              scf::YieldOp::create(b, l, corr);
            });
        memref::StoreOp::create(
            b, l,
            arith::MulFOp::create(b, l, chunkLoop.getResult(0),
                                  arith::ConstantOp::create(b, l, b.getF32FloatAttr(128))),
            a.signCorrection, ValueRange{n});
        scf::YieldOp::create(b, l);
      });
}

/// int4: one block per weight group; in each chunk of 64 the columns are
/// stored in the order the nibbles of its 32 bytes unpack to: 0-15, 32-47,
/// 16-31, 48-63.
void quantizeInt4Layout(OpBuilder &b, Location loc, Value x, Value tokens, int64_t k,
                        int64_t group, QuantizedActivations &a) {
  Type f32 = b.getF32Type();
  auto v16f = VectorType::get({16}, f32);
  auto v16i8 = VectorType::get({16}, b.getI8Type());
  auto v16i32 = VectorType::get({16}, b.getI32Type());
  const int64_t groups = (k + group - 1) / group;
  Value zeros = splat(b, loc, v16f, b.getF32FloatAttr(0));
  scf::ForOp::create(
      b, loc, index(b, loc, 0), tokens, index(b, loc, 1), ValueRange{},
      [&](OpBuilder &b, Location l, Value n, ValueRange) {
        scf::ForOp::create(
            b, l, index(b, l, 0), index(b, l, groups), index(b, l, 1), ValueRange{},
            [&](OpBuilder &b, Location l, Value g, ValueRange) {
              Value begin = arith::MulIOp::create(b, l, g, index(b, l, group));
              Value end = arith::MinUIOp::create(
                  b, l, arith::AddIOp::create(b, l, begin, index(b, l, group)), index(b, l, k));
              auto scan = scf::ForOp::create(
                  b, l, begin, end, index(b, l, 16), ValueRange{zeros},
                  [&](OpBuilder &b, Location l, Value col, ValueRange max) {
                    Value v = vector::LoadOp::create(b, l, v16f, x, ValueRange{n, col});
                    scf::YieldOp::create(b, l, maxAbs(b, l, v, max[0]));
                  });
              Value amax = vector::ReductionOp::create(b, l, vector::CombiningKind::MAXNUMF,
                                                       scan.getResult(0));
              auto [d, inverse] = blockScale(b, l, amax);
              Value none = splat(b, l, v16i32, b.getI32IntegerAttr(0));
              auto store = scf::ForOp::create(
                  b, l, begin, end, index(b, l, 16), ValueRange{none},
                  [&](OpBuilder &b, Location l, Value col, ValueRange sum) {
                    Value v = vector::LoadOp::create(b, l, v16f, x, ValueRange{n, col});
                    Value q = roundToBytes(b, l, v, inverse);
                    // Column c of chunk base: slot (c % 32 < 16 ? 0 : 32) +
                    // (c % 64 < 32 ? 0 : 16) + c % 16, whole 16-column runs.
                    Value inChunk = arith::RemUIOp::create(b, l, col, index(b, l, 64));
                    Value base = arith::SubIOp::create(b, l, col, inChunk);
                    Value highNibble = arith::RemUIOp::create(
                        b, l, arith::DivUIOp::create(b, l, inChunk, index(b, l, 16)),
                        index(b, l, 2));
                    Value secondBlock = arith::DivUIOp::create(b, l, inChunk, index(b, l, 32));
                    Value slot = arith::AddIOp::create(
                        b, l, arith::MulIOp::create(b, l, highNibble, index(b, l, 32)),
                        arith::MulIOp::create(b, l, secondBlock, index(b, l, 16)));
                    vector::StoreOp::create(b, l, arith::TruncIOp::create(b, l, v16i8, q),
                                            a.values,
                                            ValueRange{n, arith::AddIOp::create(b, l, base, slot)});
                    scf::YieldOp::create(b, l, arith::AddIOp::create(b, l, sum[0], q).getResult());
                  });
              Value sum = vector::ReductionOp::create(b, l, vector::CombiningKind::ADD,
                                                      store.getResult(0));
              memref::StoreOp::create(b, l, d, a.groupScales, ValueRange{n, g});
              memref::StoreOp::create(
                  b, l, arith::MulFOp::create(b, l, d, arith::SIToFPOp::create(b, l, f32, sum)),
                  a.groupSums, ValueRange{n, g});
              scf::YieldOp::create(b, l);
            });
        scf::YieldOp::create(b, l);
      });
}

} // namespace

QuantizedActivations llama::quantizeActivations(OpBuilder &b, Location loc, Value x,
                                                Value tokens, int64_t k, int64_t int4Group) {
  QuantizedActivations a;
  auto alloc = [&](ArrayRef<int64_t> shape, Type element) -> Value {
    SmallVector<int64_t> dims{ShapedType::kDynamic};
    dims.append(shape.begin(), shape.end());
    return memref::AllocOp::create(b, loc, MemRefType::get(dims, element), ValueRange{tokens},
                                   b.getI64IntegerAttr(64));
  };
  a.values = alloc({k}, b.getI8Type());
  if (int4Group == 0) {
    a.laneScales = alloc({k / kIntDotChunk, 16}, b.getF32Type());
    a.signCorrection = alloc({}, b.getF32Type());
    quantizeInt8Layout(b, loc, x, tokens, k, a);
    return a;
  }
  int64_t groups = (k + int4Group - 1) / int4Group;
  a.groupScales = alloc({groups}, b.getF32Type());
  a.groupSums = alloc({groups}, b.getF32Type());
  quantizeInt4Layout(b, loc, x, tokens, k, int4Group, a);
  return a;
}

void llama::freeActivations(OpBuilder &b, Location loc, const QuantizedActivations &a) {
  for (Value buffer : {a.values, a.laneScales, a.signCorrection, a.groupScales, a.groupSums})
    if (buffer)
      memref::DeallocOp::create(b, loc, buffer);
}

Value llama::vnniDot(OpBuilder &b, Location loc, Value unsignedBytes, Value signedBytes,
                     Value acc) {
  auto v16i32 = VectorType::get({16}, b.getI32Type());
  if (!acc)
    acc = splat(b, loc, v16i32, b.getI32IntegerAttr(0));
  return LLVM::CallIntrinsicOp::create(b, loc, v16i32,
                                       b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
                                       ValueRange{acc, unsignedBytes, signedBytes})
      .getResult(0);
}

Value llama::flipSign(OpBuilder &b, Location loc, Value bytes) {
  auto type = cast<VectorType>(bytes.getType());
  return arith::XOrIOp::create(b, loc, bytes,
                               splat(b, loc, type, b.getIntegerAttr(b.getI8Type(), -128)));
}

Value llama::unpackNibbles(OpBuilder &b, Location loc, Value packed) {
  int64_t n = cast<VectorType>(packed.getType()).getDimSize(0);
  SmallVector<int64_t> twice;
  for (int64_t i = 0; i < 2 * n; ++i)
    twice.push_back(i % n);
  Value both = vector::ShuffleOp::create(b, loc, packed, packed, twice);
  // Shift the upper copy's 64-bit lanes right by 4: each byte's high
  // nibble comes down (the next byte's low nibble moves up, masked off).
  auto words = VectorType::get({2 * n / 8}, b.getI64Type());
  SmallVector<int64_t> shifts;
  for (int64_t i = 0; i < 2 * n / 8; ++i)
    shifts.push_back(i < n / 8 ? 0 : 4);
  Value shifted = arith::ShRUIOp::create(
      b, loc, vector::BitCastOp::create(b, loc, words, both),
      arith::ConstantOp::create(b, loc, DenseElementsAttr::get(words, ArrayRef<int64_t>(shifts))));
  auto bytes = VectorType::get({2 * n}, b.getI8Type());
  return arith::AndIOp::create(b, loc, vector::BitCastOp::create(b, loc, bytes, shifted),
                               splat(b, loc, bytes, b.getIntegerAttr(b.getI8Type(), 15)));
}
