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

QuantizedActivations llama::quantizeActivations(OpBuilder &b, Location loc, Value x,
                                                Value tokens, int64_t k, int64_t int4Group) {
  Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
  const int64_t chunks = k / kIntDotChunk;
  const bool int4 = int4Group > 0;
  QuantizedActivations a;
  auto alloc = [&](ArrayRef<int64_t> shape, Type element) -> Value {
    SmallVector<int64_t> dims{ShapedType::kDynamic};
    dims.append(shape.begin(), shape.end());
    return memref::AllocOp::create(b, loc, MemRefType::get(dims, element), ValueRange{tokens},
                                   b.getI64IntegerAttr(64));
  };
  a.values = alloc({k}, i8);
  a.laneScales = alloc({chunks, 16}, f32);
  const int64_t groups = int4 ? (k + int4Group - 1) / int4Group : 0;
  if (int4)
    a.groupSums = alloc({groups}, f32);
  else
    a.signCorrection = alloc({}, f32);

  auto v16f = VectorType::get({16}, f32);
  auto v16i32 = VectorType::get({16}, i32);
  auto v16i8 = VectorType::get({16}, i8);
  // Lane l of a chunk's dot product sums bytes 4l..4l+3: with the int8
  // layout lanes 0-7 are block 0, with int4's lanes 0-3 and 8-11.
  SmallVector<bool> secondBlock;
  for (int64_t lane = 0; lane < 16; ++lane)
    secondBlock.push_back(int4 ? (lane / 4) % 2 == 1 : lane >= 8);
  Value laneIsSecond = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(VectorType::get({16}, b.getI1Type()), secondBlock));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));

  scf::ForOp::create(
      b, loc, index(b, loc, 0), tokens, index(b, loc, 1), ValueRange{},
      [&](OpBuilder &b, Location l, Value n, ValueRange) {
        if (int4)
          scf::ForOp::create(b, l, index(b, l, 0), index(b, l, groups), index(b, l, 1),
                             ValueRange{}, [&](OpBuilder &b, Location l, Value g, ValueRange) {
                               memref::StoreOp::create(b, l, zero, a.groupSums, ValueRange{n, g});
                               scf::YieldOp::create(b, l);
                             });
        auto chunkLoop = scf::ForOp::create(
            b, l, index(b, l, 0), index(b, l, chunks), index(b, l, 1), ValueRange{zero},
            [&](OpBuilder &b, Location l, Value c, ValueRange correction) {
              Value base = arith::MulIOp::create(b, l, c, index(b, l, kIntDotChunk));
              SmallVector<Value> scales;
              Value corr = correction[0];
              for (int64_t half = 0; half < 2; ++half) {
                // Block `half` of the chunk: columns base + 32 half + [0, 32).
                Value col = arith::AddIOp::create(b, l, base, index(b, l, 32 * half));
                Value col16 = arith::AddIOp::create(b, l, col, index(b, l, 16));
                Value lo = vector::LoadOp::create(b, l, v16f, x, ValueRange{n, col});
                Value hi = vector::LoadOp::create(b, l, v16f, x, ValueRange{n, col16});
                Value amax = vector::ReductionOp::create(
                    b, l, vector::CombiningKind::MAXNUMF,
                    arith::MaximumFOp::create(b, l, math::AbsFOp::create(b, l, lo),
                                              math::AbsFOp::create(b, l, hi)));
                Value d = arith::DivFOp::create(
                    b, l, amax, arith::ConstantOp::create(b, l, b.getF32FloatAttr(127)));
                // An all-zero block has scale 0 and bytes 0.
                Value positive =
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, amax, zero);
                Value inverse = arith::SelectOp::create(
                    b, l, positive,
                    arith::DivFOp::create(b, l,
                                          arith::ConstantOp::create(b, l, b.getF32FloatAttr(1)),
                                          d),
                    zero);
                Value inv = vector::BroadcastOp::create(b, l, v16f, inverse);
                auto quantize = [&](Value v) {
                  Value r = math::RoundEvenOp::create(b, l, arith::MulFOp::create(b, l, v, inv));
                  return arith::FPToSIOp::create(b, l, v16i32, r).getResult();
                };
                Value qlo = quantize(lo), qhi = quantize(hi);
                // int8 keeps column order; int4 puts columns 0-15 of both
                // blocks first, then their columns 16-31.
                Value at = int4 ? arith::AddIOp::create(b, l, base, index(b, l, 16 * half))
                                      .getResult()
                                : col;
                Value at16 = int4 ? arith::AddIOp::create(b, l, at, index(b, l, 32)).getResult()
                                  : col16;
                vector::StoreOp::create(b, l, arith::TruncIOp::create(b, l, v16i8, qlo), a.values,
                                        ValueRange{n, at});
                vector::StoreOp::create(b, l, arith::TruncIOp::create(b, l, v16i8, qhi), a.values,
                                        ValueRange{n, at16});
                Value sum = vector::ReductionOp::create(b, l, vector::CombiningKind::ADD,
                                                        arith::AddIOp::create(b, l, qlo, qhi));
                Value weighted =
                    arith::MulFOp::create(b, l, d, arith::SIToFPOp::create(b, l, f32, sum));
                if (int4) {
                  Value block = arith::AddIOp::create(
                      b, l, arith::MulIOp::create(b, l, c, index(b, l, 2)), index(b, l, half));
                  Value g = arith::DivUIOp::create(b, l, block, index(b, l, int4Group / 32));
                  Value old = memref::LoadOp::create(b, l, a.groupSums, ValueRange{n, g});
                  memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, weighted),
                                          a.groupSums, ValueRange{n, g});
                } else {
                  corr = arith::AddFOp::create(b, l, corr, weighted);
                }
                scales.push_back(vector::BroadcastOp::create(b, l, v16f, d));
              }
              Value lanes = arith::SelectOp::create(b, l, laneIsSecond, scales[1], scales[0]);
              vector::StoreOp::create(b, l, lanes, a.laneScales, ValueRange{n, c, index(b, l, 0)});
              scf::YieldOp::create(b, l, corr);
            });
        if (!int4)
          memref::StoreOp::create(
              b, l,
              arith::MulFOp::create(b, l, chunkLoop.getResult(0),
                                    arith::ConstantOp::create(b, l, b.getF32FloatAttr(128))),
              a.signCorrection, ValueRange{n});
        scf::YieldOp::create(b, l);
      });
  return a;
}

void llama::freeActivations(OpBuilder &b, Location loc, const QuantizedActivations &a) {
  for (Value buffer : {a.values, a.laneScales, a.signCorrection, a.groupSums})
    if (buffer)
      memref::DeallocOp::create(b, loc, buffer);
}

Value llama::vnniDot(OpBuilder &b, Location loc, Value unsignedBytes, Value signedBytes) {
  auto v16i32 = VectorType::get({16}, b.getI32Type());
  Value zero = splat(b, loc, v16i32, b.getI32IntegerAttr(0));
  return LLVM::CallIntrinsicOp::create(b, loc, v16i32,
                                       b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
                                       ValueRange{zero, unsignedBytes, signedBytes})
      .getResult(0);
}

Value llama::flipSign(OpBuilder &b, Location loc, Value bytes) {
  auto type = cast<VectorType>(bytes.getType());
  return arith::XOrIOp::create(b, loc, bytes,
                               splat(b, loc, type, b.getIntegerAttr(b.getI8Type(), -128)));
}

Value llama::unpackNibbles(OpBuilder &b, Location loc, Value packed) {
  auto type = cast<VectorType>(packed.getType());
  Value low = arith::AndIOp::create(b, loc, packed,
                                    splat(b, loc, type, b.getIntegerAttr(b.getI8Type(), 15)));
  Value high = arith::ShRUIOp::create(b, loc, packed,
                                      splat(b, loc, type, b.getIntegerAttr(b.getI8Type(), 4)));
  SmallVector<int64_t> concat;
  for (int64_t i = 0; i < 2 * type.getDimSize(0); ++i)
    concat.push_back(i);
  return vector::ShuffleOp::create(b, loc, low, high, concat);
}
