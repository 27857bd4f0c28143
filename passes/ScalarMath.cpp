//===- ScalarMath.cpp - per-element formulas shared by CPU and GPU --------===//

#include "passes/ScalarMath.h"
#include "passes/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llama;

Value llama::buildSilu(OpBuilder &b, Location loc, Value x, bool polynomialExp) {
  Value one = f32Constant(b, loc, 1.0);
  Value negX = arith::NegFOp::create(b, loc, x);
  auto exp = math::ExpOp::create(b, loc, negX);
  if (polynomialExp)
    exp->setAttr(kPolynomialExpAttr, b.getUnitAttr());
  Value denom = arith::AddFOp::create(b, loc, one, exp);
  return arith::DivFOp::create(b, loc, x, denom);
}

LogicalResult llama::expandPolynomialExps(Operation *root) {
  SmallVector<Operation *> exps;
  root->walk([&](math::ExpOp op) {
    if (op->hasAttr(kPolynomialExpAttr))
      exps.push_back(op);
  });
  if (exps.empty())
    return success();
  RewritePatternSet approximations(root->getContext());
  populateMathPolynomialApproximationPatterns(
      approximations, [](StringRef name) { return name == math::ExpOp::getOperationName(); });
  return applyOpPatternsGreedily(exps, std::move(approximations));
}

Value llama::buildInverseRms(OpBuilder &b, Location loc, Value sumOfSquares, Value dim,
                             Value eps) {
  Value mean = arith::DivFOp::create(b, loc, sumOfSquares, dim);
  return math::RsqrtOp::create(b, loc, arith::AddFOp::create(b, loc, mean, eps));
}

Value llama::indexToF32(OpBuilder &b, Location loc, Value index) {
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), i64);
}

namespace {
/// Applies Llama 3.1's rescaling to an inverse frequency (f32 scalar).
Value applyLlama3Scaling(OpBuilder &b, Location loc, Value invFreq, RopeScalingAttr scaling) {
  double factor = scaling.getFactor().convertToDouble();
  double low = scaling.getLowFreqFactor().convertToDouble();
  double high = scaling.getHighFreqFactor().convertToDouble();
  double oldContext = static_cast<double>(scaling.getOriginalMaxPosition());
  Value twoPi = f32Constant(b, loc, 2.0 * M_PI);
  Value wavelen = arith::DivFOp::create(b, loc, twoPi, invFreq);
  Value scaled = arith::DivFOp::create(b, loc, invFreq, f32Constant(b, loc, factor));
  // smooth = (oldContext / wavelen - low) / (high - low)
  Value ratio = arith::DivFOp::create(b, loc, f32Constant(b, loc, oldContext), wavelen);
  Value smooth = arith::DivFOp::create(
      b, loc, arith::SubFOp::create(b, loc, ratio, f32Constant(b, loc, low)),
      f32Constant(b, loc, high - low));
  Value one = f32Constant(b, loc, 1.0);
  Value blended = arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, arith::SubFOp::create(b, loc, one, smooth), scaled),
      arith::MulFOp::create(b, loc, smooth, invFreq));
  Value isHighFreq = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, wavelen,
                                           f32Constant(b, loc, oldContext / high));
  Value isLowFreq = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, wavelen,
                                          f32Constant(b, loc, oldContext / low));
  Value mid = arith::SelectOp::create(b, loc, isLowFreq, scaled, blended);
  return arith::SelectOp::create(b, loc, isHighFreq, invFreq, mid);
}

/// YaRN's inverse frequency of pair `pair` (index) whose unscaled frequency
/// is `posFreq` (theta^(2 pair / head_dim)), in the order of transformers'
/// `_compute_yarn_parameters` (f32 throughout, as torch computes it):
/// extrapolation factor e = 1 - clamp((pair - low) / (high - low), 0, 1),
/// result 1 / (factor posFreq) * (1 - e) + 1 / posFreq * e.
Value applyYarnScaling(OpBuilder &b, Location loc, Value pair, Value posFreq,
                       YarnRopeScalingAttr scaling) {
  // One value per statement: the IR's order is the formula's, whatever
  // order the compiler evaluates arguments in.
  Value one = f32Constant(b, loc, 1.0);
  Value extrapolated = arith::DivFOp::create(b, loc, one, posFreq);
  Value factor = f32Constant(b, loc, scaling.getFactor().convertToDouble());
  Value scaledFreq = arith::MulFOp::create(b, loc, factor, posFreq);
  Value interpolated = arith::DivFOp::create(b, loc, one, scaledFreq);
  // Python subtracts the bounds in double; torch rounds the difference to f32.
  double low = scaling.getLow().convertToDouble();
  double high = scaling.getHigh().convertToDouble();
  Value pairF = indexToF32(b, loc, pair);
  Value lowF = f32Constant(b, loc, low);
  Value width = f32Constant(b, loc, high - low);
  Value above = arith::SubFOp::create(b, loc, pairF, lowF);
  Value linear = arith::DivFOp::create(b, loc, above, width);
  Value zero = f32Constant(b, loc, 0.0);
  Value clampedBelow = arith::MaxNumFOp::create(b, loc, linear, zero);
  Value ramp = arith::MinNumFOp::create(b, loc, clampedBelow, one);
  Value extrapolation = arith::SubFOp::create(b, loc, one, ramp);
  Value interpolation = arith::SubFOp::create(b, loc, one, extrapolation);
  Value interpolatedPart = arith::MulFOp::create(b, loc, interpolated, interpolation);
  Value extrapolatedPart = arith::MulFOp::create(b, loc, extrapolated, extrapolation);
  return arith::AddFOp::create(b, loc, interpolatedPart, extrapolatedPart);
}
} // namespace

Value llama::buildRopeInverseFrequency(OpBuilder &b, Location loc, Value pair, Value headDim,
                                       Value theta, Attribute scaling) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value twoJ = indexToF32(b, loc, arith::ShLIOp::create(b, loc, pair, one));
  Value exponent = arith::DivFOp::create(b, loc, twoJ, headDim);
  Value posFreq = math::PowFOp::create(b, loc, theta, exponent);
  if (auto yarn = dyn_cast_if_present<YarnRopeScalingAttr>(scaling))
    return applyYarnScaling(b, loc, pair, posFreq, yarn);
  Value invFreq = arith::DivFOp::create(b, loc, f32Constant(b, loc, 1.0), posFreq);
  if (auto llama3 = dyn_cast_if_present<RopeScalingAttr>(scaling))
    return applyLlama3Scaling(b, loc, invFreq, llama3);
  // Position interpolation: position p rotates as p / factor did.
  if (auto linear = dyn_cast_if_present<LinearRopeScalingAttr>(scaling))
    return arith::DivFOp::create(b, loc, invFreq,
                                 f32Constant(b, loc, linear.getFactor().convertToDouble()));
  return invFreq;
}

std::pair<Value, Value> llama::buildRopeCosSin(OpBuilder &b, Location loc, Value angle,
                                               Attribute scaling) {
  Value c = math::CosOp::create(b, loc, angle);
  Value s = math::SinOp::create(b, loc, angle);
  // YaRN scales q and k (both rotated here), so the logits by its square.
  if (auto yarn = dyn_cast_if_present<YarnRopeScalingAttr>(scaling)) {
    Value factor = f32Constant(b, loc, yarn.getAttentionFactor().convertToDouble());
    c = arith::MulFOp::create(b, loc, c, factor);
    s = arith::MulFOp::create(b, loc, s, factor);
  }
  return {c, s};
}

Value llama::buildRopeRotation(OpBuilder &b, Location loc, Value self, Value other, Value c,
                               Value s, Value isFirst) {
  Value selfCos = arith::MulFOp::create(b, loc, self, c);
  Value otherSin = arith::MulFOp::create(b, loc, other, s);
  return arith::SelectOp::create(b, loc, isFirst,
                                 arith::SubFOp::create(b, loc, selfCos, otherSin),
                                 arith::AddFOp::create(b, loc, selfCos, otherSin));
}
