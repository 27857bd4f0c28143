//===- WeightStream.cpp - how the GPU kernels read a projection weight ----===//
//
// int4 keeps the artifact's layout (no repacking at load): a row's block b
// of 16 bytes holds columns 32b..32b+15 in its low nibbles and
// 32b+16..32b+31 in its high ones, so one 16-byte load per lane is a step
// of 32 columns, split into two f32 vectors by a mask and a shift (no
// sub-byte vector types). Lanes take consecutive blocks, so a subgroup
// reads 16 bytes × lanes contiguous bytes of the row per step (512 on a
// warp), and its scales and zeros are as contiguous as the groups allow.
//
//===----------------------------------------------------------------------===//

#include "passes/gpu/WeightStream.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::llama;

GpuWeight GpuWeight::lookup(Value weight, const IRMapping &operands) {
  GpuWeight w;
  if (auto dequantize = weight.getDefiningOp<DequantizeOp>()) {
    w.kind = dequantize.getKind();
    w.values = operands.lookup(dequantize.getValues());
    w.scales = operands.lookup(dequantize.getScales());
    if (Value zeros = dequantize.getZeros())
      w.zeros = operands.lookup(zeros);
    w.group = dequantize.getGroup().value_or(0);
    w.inFeatures = dequantize.getInFeatures();
    return w;
  }
  w.values = operands.lookup(weight);
  auto type = cast<MemRefType>(w.values.getType());
  w.inFeatures = type.getDimSize(type.getRank() - 1);
  return w;
}

int64_t GpuWeight::rows() const {
  auto type = cast<MemRefType>(values.getType());
  return type.getDimSize(type.getRank() - 2);
}

GpuWeight GpuWeight::forExpert(Value e) const {
  GpuWeight w = *this;
  w.expert = e;
  return w;
}

SmallVector<Value> GpuWeight::at(ValueRange indices) const {
  SmallVector<Value> all;
  if (expert)
    all.push_back(expert);
  all.append(indices.begin(), indices.end());
  return all;
}

WeightSteps mlir::llama::weightSteps(const GpuTargetInfo &target, ArrayRef<GpuWeight> weights,
                                     int64_t k, bool xIsF32) {
  const GpuWeight &first = weights.front();
  bool sameKind = llvm::all_of(weights, [&](const GpuWeight &w) { return w.kind == first.kind; });
  WeightSteps steps;
  // The activations' rows must start on a 16-byte boundary too.
  if (!xIsF32 || !sameKind || (k * 4) % 16 != 0)
    return steps;
  int64_t loadBytes = target.vectorLoadBytes;
  if (!first.kind) {
    int64_t bits = cast<MemRefType>(first.values.getType()).getElementTypeBitWidth();
    int64_t perLoad = loadBytes * 8 / bits;
    bool sameBits = llvm::all_of(weights, [&](const GpuWeight &w) {
      return cast<MemRefType>(w.values.getType()).getElementTypeBitWidth() == bits;
    });
    if (sameBits && k % perLoad == 0 && (k * bits / 8) % loadBytes == 0)
      steps = {true, perLoad, 1};
    return steps;
  }
  if (*first.kind == QuantKind::Int8 && k % loadBytes == 0)
    return {true, loadBytes, 1};
  // int4: one load of 16 bytes is one 32-column block of the layout.
  if (*first.kind == QuantKind::Int4 && loadBytes == 16 && k % 32 == 0)
    return {true, 16, 2};
  return steps;
}

namespace {

Value splat(OpBuilder &b, Location loc, VectorType type, Attribute value) {
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, value));
}

/// An int4 weight's dequantization of a step: q * scale + (zero - 8 scale),
/// with the scale and zero of column kk's group (a step never straddles
/// two groups: groups are whole 32-column blocks).
std::pair<Value, Value> int4ScaleAndOffset(GpuKernelBuilder &kb, const GpuWeight &w, Value row,
                                           Value kk) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value group = arith::DivUIOp::create(b, loc, kk, kb.index(w.group));
  Value scale = kb.loadF32(w.scales, w.at({row, group}));
  Value zero = kb.loadF32(w.zeros, w.at({row, group}));
  Value offset =
      arith::SubFOp::create(b, loc, zero, arith::MulFOp::create(b, loc, kb.f32(8), scale));
  return {scale, offset};
}

/// Small unsigned integers as exact f32 without the int-to-float unit
/// (a quarter of the FMA rate on NVIDIA GPUs): `bytes` (each < 2^8) widened
/// to i32 and or'ed into the mantissa of 2^23 is 2^23 + q exactly, and
/// subtracting 2^23 + `bias` leaves q - bias, also exactly. Full-rate
/// integer ops and one add per element instead of a conversion.
Value bytesToF32(OpBuilder &b, Location loc, Value bytes, double bias) {
  auto type = cast<VectorType>(bytes.getType());
  int64_t n = type.getNumElements();
  auto i32s = VectorType::get({n}, b.getI32Type());
  auto f32s = VectorType::get({n}, b.getF32Type());
  Value wide = arith::ExtUIOp::create(b, loc, i32s, bytes);
  Value bits = arith::OrIOp::create(b, loc, wide,
                                    splat(b, loc, i32s, b.getI32IntegerAttr(0x4B000000)));
  Value magic = arith::BitcastOp::create(b, loc, f32s, bits);
  return arith::SubFOp::create(b, loc, magic,
                               splat(b, loc, f32s, b.getF32FloatAttr(8388608.0 + bias)));
}

/// The low (`high` false) or high nibbles of 16 bytes, as 16 bytes < 16:
/// masked and shifted as four 32-bit words (4 ops, not 16 byte ops).
Value nibbles(OpBuilder &b, Location loc, Value bytes, bool high) {
  auto words = VectorType::get({4}, b.getI32Type());
  Value packed = vector::BitCastOp::create(b, loc, words, bytes);
  if (high)
    packed = arith::ShRUIOp::create(b, loc, packed,
                                    splat(b, loc, words, b.getI32IntegerAttr(4)));
  Value masked = arith::AndIOp::create(b, loc, packed,
                                       splat(b, loc, words, b.getI32IntegerAttr(0x0F0F0F0F)));
  return vector::BitCastOp::create(b, loc, bytes.getType(), masked);
}

} // namespace

SmallVector<Value> mlir::llama::loadWeightStep(GpuKernelBuilder &kb, const GpuWeight &w,
                                               const WeightSteps &steps, Value row, Value kk) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Type f32 = b.getF32Type();
  Type i8 = b.getI8Type();
  if (!steps.vectorized) {
    if (!w.kind)
      return {kb.loadF32(w.values, w.at({row, kk}))};
    if (*w.kind == QuantKind::Int8) {
      Value q = memref::LoadOp::create(b, loc, w.values, w.at({row, kk}));
      return {arith::SIToFPOp::create(b, loc, f32, q)};
    }
    // int4, one column: byte 16·(kk/32) + kk%16, its high nibble when
    // kk%32 >= 16.
    Value block = arith::DivUIOp::create(b, loc, kk, kb.index(32));
    Value byte = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, block, kb.index(16)),
        arith::RemUIOp::create(b, loc, kk, kb.index(16)));
    Value half = arith::DivUIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, kk, kb.index(32)), kb.index(16));
    Value shift = arith::IndexCastOp::create(
        b, loc, i8, arith::MulIOp::create(b, loc, half, kb.index(4)));
    Value packed = memref::LoadOp::create(b, loc, w.values, w.at({row, byte}));
    Value q = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, packed, shift),
                                    arith::ConstantIntOp::create(b, loc, i8, 15));
    auto [scale, offset] = int4ScaleAndOffset(kb, w, row, kk);
    Value qf = arith::UIToFPOp::create(b, loc, f32, q);
    return {arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, qf, scale), offset)};
  }

  auto vectorOf = [&](Type element) { return VectorType::get({steps.chunkWidth}, element); };
  auto load = [&](Value memref, Value column) {
    Type element = cast<MemRefType>(memref.getType()).getElementType();
    auto v = vector::LoadOp::create(b, loc, vectorOf(element), memref, w.at({row, column}));
    v.setAlignment(std::min<int64_t>(16, steps.chunkWidth * element.getIntOrFloatBitWidth() / 8));
    return v.getResult();
  };
  if (!w.kind) {
    Value v = load(w.values, kk);
    if (cast<VectorType>(v.getType()).getElementType().isF32())
      return {v};
    return {arith::ExtFOp::create(b, loc, vectorOf(f32), v)};
  }
  // Through the f32 mantissa where conversions are slow, on whole 32-bit
  // words of bytes.
  bool viaMantissa = kb.target.slowIntToFloat && steps.chunkWidth == 16;
  if (*w.kind == QuantKind::Int8) {
    Value q = load(w.values, kk);
    if (!viaMantissa)
      return {arith::SIToFPOp::create(b, loc, vectorOf(f32), q)};
    // Flipping the sign bits (four 32-bit words) maps q in [-128, 127] to
    // q + 128 in [0, 255].
    auto words = VectorType::get({4}, b.getI32Type());
    Value flipped = arith::XOrIOp::create(
        b, loc, vector::BitCastOp::create(b, loc, words, q),
        splat(b, loc, words, b.getI32IntegerAttr(static_cast<int32_t>(0x80808080u))));
    return {bytesToF32(b, loc, vector::BitCastOp::create(b, loc, q.getType(), flipped), 128)};
  }

  // int4: the block of columns kk..kk+31 is bytes kk/2..kk/2+15, its low
  // nibbles columns kk..kk+15 and its high ones kk+16..kk+31. q - 8 comes
  // exactly out of bytesToF32, so (q - 8) * scale + zero is one fma.
  Value bytes = load(w.values, arith::DivUIOp::create(b, loc, kk, kb.index(2)));
  Value group = arith::DivUIOp::create(b, loc, kk, kb.index(w.group));
  Value scales = vector::BroadcastOp::create(b, loc, vectorOf(f32),
                                             kb.loadF32(w.scales, w.at({row, group})));
  Value zeros = vector::BroadcastOp::create(b, loc, vectorOf(f32),
                                            kb.loadF32(w.zeros, w.at({row, group})));
  SmallVector<Value> chunks;
  for (bool high : {false, true}) {
    Value q4 = nibbles(b, loc, bytes, high);
    Value q = viaMantissa ? bytesToF32(b, loc, q4, 8)
                          : arith::SubFOp::create(b, loc,
                                                  arith::UIToFPOp::create(b, loc, vectorOf(f32), q4),
                                                  splat(b, loc, vectorOf(f32), b.getF32FloatAttr(8)));
    chunks.push_back(vector::FMAOp::create(b, loc, q, scales, zeros));
  }
  return chunks;
}

Value mlir::llama::rowScale(GpuKernelBuilder &kb, const GpuWeight &w, Value row) {
  if (w.kind != QuantKind::Int8)
    return {};
  return kb.loadF32(w.scales, w.at({row}));
}

Value mlir::llama::loadWeightRunBf16(GpuKernelBuilder &kb, const GpuWeight &w, Value row,
                                     Value column, int64_t width) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Type i8 = b.getI8Type();
  auto vectorOf = [&](Type element) { return VectorType::get({width}, element); };
  auto load = [&](Value memref, Value at) {
    Type element = cast<MemRefType>(memref.getType()).getElementType();
    auto v = vector::LoadOp::create(b, loc, vectorOf(element), memref, w.at({row, at}));
    v.setAlignment(width * element.getIntOrFloatBitWidth() / 8);
    return v.getResult();
  };
  auto toBf16 = [&](Value f32) -> Value {
    return arith::TruncFOp::create(b, loc, vectorOf(b.getBF16Type()), f32);
  };
  if (!w.kind)
    return load(w.values, column);
  Type f32 = vectorOf(b.getF32Type());
  if (*w.kind == QuantKind::Int8)
    return toBf16(arith::SIToFPOp::create(b, loc, f32, load(w.values, column)));
  // int4: the run lies in one half of a 32-column block, so its nibbles are
  // `width` consecutive bytes from 16·(column/32) + column%16, all low or
  // all high.
  Value block = arith::DivUIOp::create(b, loc, column, kb.index(32));
  Value byte = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, block, kb.index(16)),
                                     arith::RemUIOp::create(b, loc, column, kb.index(16)));
  Value half = arith::DivUIOp::create(
      b, loc, arith::RemUIOp::create(b, loc, column, kb.index(32)), kb.index(16));
  Value shift = arith::IndexCastOp::create(b, loc, i8,
                                           arith::MulIOp::create(b, loc, half, kb.index(4)));
  Value shifted = arith::ShRUIOp::create(b, loc, load(w.values, byte),
                                         vector::BroadcastOp::create(b, loc, vectorOf(i8), shift));
  Value q = arith::AndIOp::create(b, loc, shifted,
                                  splat(b, loc, cast<VectorType>(vectorOf(i8)),
                                        b.getIntegerAttr(i8, 15)));
  auto [scale, offset] = int4ScaleAndOffset(kb, w, row, column);
  Value dequantized = vector::FMAOp::create(
      b, loc, arith::UIToFPOp::create(b, loc, f32, q),
      vector::BroadcastOp::create(b, loc, f32, scale),
      vector::BroadcastOp::create(b, loc, f32, offset));
  return toBf16(dequantized);
}
