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

/// One scale per block of `block` columns. int4 (`nibbleChunk` 64 or 128
/// columns): in each chunk the columns are stored in the order its bytes'
/// nibbles are multiplied in: the low nibbles of each 32-column block
/// (columns 0-15 of 0-31, 32-47 of 32-63, ...), then the high ones (16-31,
/// 48-63, ...); int8 (0): column order, and the per-token sign-flip
/// correction 128 * sum_b d_b * sum(q_b).
void quantizeBlocks(OpBuilder &b, Location loc, Value x, Value tokens, int64_t k,
                    int64_t block, int64_t nibbleChunk, QuantizedActivations &a) {
  Type f32 = b.getF32Type();
  auto v16f = VectorType::get({16}, f32);
  auto v16i8 = VectorType::get({16}, b.getI8Type());
  auto v16i32 = VectorType::get({16}, b.getI32Type());
  const int64_t blocks = (k + block - 1) / block;
  Value zeros = splat(b, loc, v16f, b.getF32FloatAttr(0));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  scf::ForOp::create(
      b, loc, index(b, loc, 0), tokens, index(b, loc, 1), ValueRange{},
      [&](OpBuilder &b, Location l, Value n, ValueRange) {
        auto blockLoop = scf::ForOp::create(
            b, l, index(b, l, 0), index(b, l, blocks), index(b, l, 1), ValueRange{zero},
            [&](OpBuilder &b, Location l, Value g, ValueRange total) {
              Value begin = arith::MulIOp::create(b, l, g, index(b, l, block));
              Value end = arith::MinUIOp::create(
                  b, l, arith::AddIOp::create(b, l, begin, index(b, l, block)), index(b, l, k));
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
                    Value at = col;
                    if (nibbleChunk) {
                      // Column c of chunk base: slot (c % 32 < 16 ? 0 :
                      // chunk / 2) + (c % chunk) / 32 * 16 + c % 16, whole
                      // 16-column runs.
                      Value inChunk = arith::RemUIOp::create(b, l, col, index(b, l, nibbleChunk));
                      Value base = arith::SubIOp::create(b, l, col, inChunk);
                      Value highNibble = arith::RemUIOp::create(
                          b, l, arith::DivUIOp::create(b, l, inChunk, index(b, l, 16)),
                          index(b, l, 2));
                      Value block32 = arith::DivUIOp::create(b, l, inChunk, index(b, l, 32));
                      Value slot = arith::AddIOp::create(
                          b, l, arith::MulIOp::create(b, l, highNibble, index(b, l, nibbleChunk / 2)),
                          arith::MulIOp::create(b, l, block32, index(b, l, 16)));
                      at = arith::AddIOp::create(b, l, base, slot);
                    }
                    vector::StoreOp::create(b, l, arith::TruncIOp::create(b, l, v16i8, q),
                                            a.values, ValueRange{n, at});
                    scf::YieldOp::create(b, l, arith::AddIOp::create(b, l, sum[0], q).getResult());
                  });
              Value sum = vector::ReductionOp::create(b, l, vector::CombiningKind::ADD,
                                                      store.getResult(0));
              Value dq = arith::MulFOp::create(b, l, d, arith::SIToFPOp::create(b, l, f32, sum));
              memref::StoreOp::create(b, l, d, a.blockScales, ValueRange{n, g});
              if (a.blockSums)
                memref::StoreOp::create(b, l, dq, a.blockSums, ValueRange{n, g});
              scf::YieldOp::create(b, l, arith::AddFOp::create(b, l, total[0], dq).getResult());
            });
        if (a.signCorrection)
          memref::StoreOp::create(
              b, l,
              arith::MulFOp::create(b, l, blockLoop.getResult(0),
                                    arith::ConstantOp::create(b, l, b.getF32FloatAttr(128))),
              a.signCorrection, ValueRange{n});
        scf::YieldOp::create(b, l);
      });
}

} // namespace

int64_t llama::int8ActivationBlock(int64_t k, int64_t unshardedK) {
  if (unshardedK > k)
    if (int64_t whole = int8ActivationBlock(unshardedK); whole > 0 && k % whole == 0)
      return whole;
  // The largest block that divides k / 4, else k / 2, else k: a slice of a
  // tensor-parallel split along k (2 or 4 ranks) then holds whole blocks.
  for (int64_t parts : {4, 2, 1})
    for (int64_t block : {256, 128, 64})
      if (k % (parts * block) == 0)
        return block;
  return 0;
}

QuantizedActivations llama::quantizeActivations(OpBuilder &b, Location loc, Value x,
                                                Value tokens, int64_t k, QuantKind kind,
                                                int64_t block) {
  QuantizedActivations a;
  auto alloc = [&](ArrayRef<int64_t> shape, Type element) -> Value {
    SmallVector<int64_t> dims{ShapedType::kDynamic};
    dims.append(shape.begin(), shape.end());
    return memref::AllocOp::create(b, loc, MemRefType::get(dims, element), ValueRange{tokens},
                                   b.getI64IntegerAttr(64));
  };
  bool int4 = kind == QuantKind::Int4;
  int64_t blocks = (k + block - 1) / block;
  a.values = alloc({k}, b.getI8Type());
  a.blockScales = alloc({blocks}, b.getF32Type());
  if (int4)
    a.blockSums = alloc({blocks}, b.getF32Type());
  else
    a.signCorrection = alloc({}, b.getF32Type());
  int64_t nibbleChunk =
      !int4 ? 0 : int4WideSteps(k, block) ? kIntDotWideChunk : kIntDotChunk;
  quantizeBlocks(b, loc, x, tokens, k, block, nibbleChunk, a);
  return a;
}

void llama::freeActivations(OpBuilder &b, Location loc, const QuantizedActivations &a) {
  for (Value buffer : {a.values, a.blockScales, a.blockSums, a.signCorrection})
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

std::pair<Value, Value> llama::splitNibbles(OpBuilder &b, Location loc, Value packed,
                                            bool inPlace) {
  auto type = cast<VectorType>(packed.getType());
  auto mask = [&](int v) { return splat(b, loc, type, b.getIntegerAttr(b.getI8Type(), v)); };
  Value low = arith::AndIOp::create(b, loc, packed, mask(0x0F));
  // x86 has no byte shifts: LLVM shifts 16-bit lanes and masks.
  Value high = inPlace ? arith::AndIOp::create(b, loc, packed, mask(0xF0)).getResult()
                       : arith::ShRUIOp::create(b, loc, packed, mask(4)).getResult();
  return {low, high};
}

GroupSpan llama::loadGroupSpan(OpBuilder &b, Location loc, Value scales, Value zeros, Value row,
                               Value first, int64_t count) {
  auto groupsF32 = VectorType::get({count}, b.getF32Type());
  auto load = [&](Value tensor) {
    Value stored = vector::LoadOp::create(b, loc, VectorType::get({count}, b.getBF16Type()),
                                          tensor, ValueRange{row, first});
    return arith::ExtFOp::create(b, loc, groupsF32, stored).getResult();
  };
  Value s = load(scales), z = load(zeros);
  Value eight =
      arith::ConstantOp::create(b, loc, DenseElementsAttr::get(groupsF32, b.getF32FloatAttr(8)));
  return {s, arith::SubFOp::create(b, loc, z, arith::MulFOp::create(b, loc, eight, s))};
}

Value llama::addGroupOffsetProducts(OpBuilder &b, Location loc, Value acc, Value offsets,
                                    Value sums) {
  auto spanType = cast<VectorType>(offsets.getType());
  int64_t count = spanType.getNumElements(),
          lanes = cast<VectorType>(acc.getType()).getNumElements();
  if (count == lanes)
    return vector::FMAOp::create(b, loc, offsets, sums, acc);
  Value zeros =
      arith::ConstantOp::create(b, loc, DenseElementsAttr::get(spanType, b.getF32FloatAttr(0)));
  SmallVector<int64_t> widen;
  for (int64_t i = 0; i < lanes; ++i)
    widen.push_back(i < count ? i : count);
  Value products = arith::MulFOp::create(b, loc, offsets, sums);
  return arith::AddFOp::create(b, loc, acc,
                               vector::ShuffleOp::create(b, loc, products, zeros, widen));
}
