//===- LinalgBuilders.cpp - helpers shared by the lowering passes ---------===//

#include "passes/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

Value llama::extendToF32(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isF32())
    return v;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
}

Value llama::truncateFromF32(OpBuilder &b, Location loc, Value v, Type type) {
  if (type.isF32())
    return v;
  return arith::TruncFOp::create(b, loc, type, v);
}

Value llama::emptyLike(OpBuilder &b, Location loc, Value like,
                       Type elementType, ArrayRef<int64_t> dims) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  if (!dims.empty()) {
    SmallVector<OpFoldResult> picked;
    for (int64_t d : dims)
      picked.push_back(sizes[d]);
    sizes = std::move(picked);
  }
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value llama::zerosLike(OpBuilder &b, Location loc, Value like,
                       Type elementType, ArrayRef<int64_t> dims) {
  Value empty = emptyLike(b, loc, like, elementType, dims);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elementType));
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

Value llama::f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}
