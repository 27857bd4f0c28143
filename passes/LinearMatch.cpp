//===- LinearMatch.cpp - recognizing bufferized linear layers -------------===//

#include "passes/LinearMatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

/// True for the body `yield(acc + ext?(a) * ext?(b))` of a linear layer.
static bool isMulAddBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value acc = body.getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  if (add.getLhs() != acc && add.getRhs() != acc)
    return false;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  auto fromArg = [&](Value v, unsigned arg) {
    if (auto ext = v.getDefiningOp<arith::ExtFOp>())
      v = ext.getIn();
    return v == body.getArgument(arg);
  };
  return (fromArg(mul.getLhs(), 0) && fromArg(mul.getRhs(), 1)) ||
         (fromArg(mul.getLhs(), 1) && fromArg(mul.getRhs(), 0));
}

/// Matches `out[n, o] += x[n, k] * w[o, k]` on buffers with unit inner
/// strides and a static k.
bool llama::isBufferizedLinear(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 3)
    return false;
  auto iters = op.getIteratorTypesArray();
  if (iters[0] != utils::IteratorType::parallel ||
      iters[1] != utils::IteratorType::parallel ||
      iters[2] != utils::IteratorType::reduction)
    return false;
  MLIRContext *ctx = op.getContext();
  AffineExpr n = getAffineDimExpr(0, ctx), o = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  auto maps = op.getIndexingMapsArray();
  if (maps[0] != AffineMap::get(3, 0, {n, k}, ctx) ||
      maps[1] != AffineMap::get(3, 0, {o, k}, ctx) ||
      maps[2] != AffineMap::get(3, 0, {n, o}, ctx))
    return false;
  auto x = dyn_cast<MemRefType>(op.getDpsInputs()[0].getType());
  auto w = dyn_cast<MemRefType>(op.getDpsInputs()[1].getType());
  auto out = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
  if (!x || !w || !out || !out.getElementType().isF32() ||
      !x.getElementType().isF32() || ShapedType::isDynamic(x.getDimSize(1)))
    return false;
  for (MemRefType t : {x, w})
    if (!t.isLastDimUnitStride())
      return false;
  return isMulAddBody(op);
}

