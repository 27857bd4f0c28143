//===- LlamaProjections.cpp - ProjectionOpInterface -----------------------===//
//
// The projection ops' answers to ProjectionOpInterface (LlamaInterfaces.td),
// and the interface's helpers common to every projection.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaInterfaces.h"
#include "dialects/llama/LlamaOps.h"

using namespace mlir;
using namespace mlir::llama;

#include "dialects/llama/LlamaInterfaces.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers shared by every projection
//===----------------------------------------------------------------------===//

RMSNormOp ProjectionOpInterface::getInputNorm() {
  return getInput().getDefiningOp<RMSNormOp>();
}

int64_t ProjectionOpInterface::getOutputFeatures() {
  int64_t features = 0;
  for (unsigned i = 0, e = getOperation()->getNumResults(); i < e; ++i)
    features += cast<ShapedType>(getResultWeights(i).front().getType()).getDimSize(0);
  return features;
}

/// The bytes a tensor of `type` holds.
static int64_t tensorBytes(Type type) {
  auto shaped = cast<ShapedType>(type);
  return shaped.getNumElements() * shaped.getElementTypeBitWidth() / 8;
}

int64_t mlir::llama::getStoredBytes(Value weight) {
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  if (!dequantize)
    return tensorBytes(weight.getType());
  int64_t bytes = 0;
  for (Value stored : dequantize->getOperands())
    bytes += tensorBytes(stored.getType());
  return bytes;
}

int64_t ProjectionOpInterface::getWeightBytes() {
  int64_t bytes = 0;
  for (Value weight : getWeights())
    bytes += getStoredBytes(weight);
  return bytes;
}

//===----------------------------------------------------------------------===//
// llama.linear: one weight, optionally the residual epilogue
//===----------------------------------------------------------------------===//

OperandRange LinearOp::getWeights() { return getODSOperands(1); }

OperandRange LinearOp::getResultWeights(unsigned result) {
  assert(result == 0 && "llama.linear has one result");
  return getWeights();
}

ProjectionEpilogue LinearOp::getEpilogue() {
  return getResidual() ? ProjectionEpilogue::Residual : ProjectionEpilogue::None;
}

Value LinearOp::buildResultProjection(OpBuilder &builder, Location loc, unsigned result,
                                      Type type, Value input, ValueRange weights,
                                      Value residual) {
  assert(result == 0 && weights.size() == 1 && "llama.linear has one weight");
  return LinearOp::create(builder, loc, type, input, weights.front(), residual);
}

//===----------------------------------------------------------------------===//
// llama.linear_group: result i is the product with weight i
//===----------------------------------------------------------------------===//

OperandRange LinearGroupOp::getResultWeights(unsigned result) {
  return getWeights().slice(result, 1);
}

ProjectionEpilogue LinearGroupOp::getEpilogue() { return ProjectionEpilogue::None; }

/// One result of a group is a plain linear layer.
Value LinearGroupOp::buildResultProjection(OpBuilder &builder, Location loc, unsigned result,
                                           Type type, Value input, ValueRange weights,
                                           Value residual) {
  assert(weights.size() == 1 && !residual && "a group's result has one weight, no residual");
  return LinearOp::create(builder, loc, type, input, weights.front());
}

//===----------------------------------------------------------------------===//
// llama.gated_linear: gate and up meet in the SwiGLU epilogue
//===----------------------------------------------------------------------===//

OperandRange GatedLinearOp::getWeights() {
  return getOperation()->getOperands().drop_front();
}

OperandRange GatedLinearOp::getResultWeights(unsigned result) {
  assert(result == 0 && "llama.gated_linear has one result");
  return getWeights();
}

ProjectionEpilogue GatedLinearOp::getEpilogue() { return ProjectionEpilogue::SwiGLU; }

Value GatedLinearOp::buildResultProjection(OpBuilder &builder, Location loc, unsigned result,
                                           Type type, Value input, ValueRange weights,
                                           Value residual) {
  assert(result == 0 && weights.size() == 2 && !residual && "gate and up, no residual");
  return GatedLinearOp::create(builder, loc, type, input, weights[0], weights[1]);
}
