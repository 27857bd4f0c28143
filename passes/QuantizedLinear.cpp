//===- QuantizedLinear.cpp - linear layers over quantized weights ---------===//

#include "passes/QuantizedLinear.h"
#include "passes/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::llama;

Value llama::int4ByteIndex(OpBuilder &b, Location loc, Value k) {
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value block = arith::DivUIOp::create(b, loc, k, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, k, idx(16));
  return arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, block, idx(16)), lane);
}

Value llama::dequantizeScalar(OpBuilder &b, Location loc, QuantKind kind, Value byte, Value k,
                              Value scale, Value zero) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  if (kind == QuantKind::Int8)
    return arith::MulFOp::create(b, loc, arith::SIToFPOp::create(b, loc, f32, byte), scale);
  // Columns 16..31 of each block of 32 are the high nibbles.
  Value inBlock = arith::RemUIOp::create(b, loc, k, arith::ConstantIndexOp::create(b, loc, 32));
  Value high = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, inBlock,
                                     arith::ConstantIndexOp::create(b, loc, 16));
  Value shift = arith::SelectOp::create(b, loc, high, arith::ConstantIntOp::create(b, loc, i32, 4),
                                        arith::ConstantIntOp::create(b, loc, i32, 0));
  Value bits = arith::ExtUIOp::create(b, loc, i32, byte);
  Value nibble = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, bits, shift),
                                       arith::ConstantIntOp::create(b, loc, i32, 15));
  Value q = arith::SubFOp::create(b, loc, arith::UIToFPOp::create(b, loc, f32, nibble),
                                  f32Constant(b, loc, 8.0));
  return arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, q, scale), zero);
}

Value llama::buildQuantizedLinear(OpBuilder &b, Location loc, Value x, DequantizeOp dq,
                                  Value acc) {
  MLIRContext *ctx = b.getContext();
  AffineExpr n = getAffineDimExpr(0, ctx), o = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  auto map = [&](ArrayRef<AffineExpr> e) { return AffineMap::get(3, 0, e, ctx); };
  QuantKind kind = dq.getKind();
  SmallVector<Value> inputs{x, dq.getValues(), dq.getScales()};
  SmallVector<AffineMap> maps{map({n, k})};
  if (kind == QuantKind::Int8) {
    maps.append({map({o, k}), map({o})});
  } else {
    int64_t group = *dq.getGroup();
    AffineExpr byte = k.floorDiv(32) * 16 + k % 16;
    maps.append({map({o, byte}), map({o, k.floorDiv(group)}), map({o, k.floorDiv(group)})});
    inputs.push_back(dq.getZeros());
  }
  maps.push_back(map({n, o}));
  auto generic = linalg::GenericOp::create(
      b, loc, acc.getType(), inputs, acc, maps,
      {utils::IteratorType::parallel, utils::IteratorType::parallel,
       utils::IteratorType::reduction},
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value column = linalg::IndexOp::create(b, l, 2);
        Value zero = kind == QuantKind::Int4 ? extendToF32(b, l, args[3]) : Value();
        Value w = dequantizeScalar(b, l, kind, args[1], column, extendToF32(b, l, args[2]), zero);
        Value p = arith::MulFOp::create(b, l, args[0], w);
        linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, args.back(), p).getResult());
      });
  generic->setAttr(kQuantKindAttr, dq.getKindAttr());
  if (kind == QuantKind::Int4)
    generic->setAttr(kQuantGroupAttr, dq.getGroupAttr());
  // A rank's slice of a row-parallel weight: QuantizeWeights recorded the
  // whole weight's columns.
  if (auto whole = dq->getAttrOfType<IntegerAttr>(kUnshardedKAttr))
    generic->setAttr(kUnshardedKAttr, whole);
  return generic.getResult(0);
}

std::optional<QuantizedLinear> llama::matchBufferizedQuantizedLinear(linalg::GenericOp op) {
  auto kindAttr = op->getAttrOfType<QuantKindAttr>(kQuantKindAttr);
  if (!kindAttr || !op.hasPureBufferSemantics() || op.getNumDpsInits() != 1)
    return std::nullopt;
  QuantizedLinear m;
  m.kind = kindAttr.getValue();
  unsigned expected = m.kind == QuantKind::Int8 ? 3 : 4;
  if (op.getNumDpsInputs() != expected)
    return std::nullopt;
  if (m.kind == QuantKind::Int4) {
    auto group = op->getAttrOfType<IntegerAttr>(kQuantGroupAttr);
    if (!group || group.getInt() <= 0 || group.getInt() % 32 != 0)
      return std::nullopt;
    m.group = group.getInt();
  }
  m.x = op.getDpsInputs()[0];
  m.values = op.getDpsInputs()[1];
  m.scales = op.getDpsInputs()[2];
  m.zeros = m.kind == QuantKind::Int4 ? op.getDpsInputs()[3] : Value();
  m.out = op.getDpsInits()[0];
  auto x = dyn_cast<MemRefType>(m.x.getType());
  auto out = dyn_cast<MemRefType>(m.out.getType());
  if (!x || !out || !x.getElementType().isF32() || !out.getElementType().isF32() ||
      ShapedType::isDynamic(x.getDimSize(1)))
    return std::nullopt;
  m.k = x.getDimSize(1);
  if (auto whole = op->getAttrOfType<IntegerAttr>(kUnshardedKAttr))
    m.unshardedK = whole.getInt();
  for (Value v : {m.x, m.values, m.scales, m.zeros})
    if (v && !cast<MemRefType>(v.getType()).isLastDimUnitStride())
      return std::nullopt;
  return m;
}
