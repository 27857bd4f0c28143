//===- ExpertRouting.cpp - a mixture's picks, shared by CPU and GPU -------===//

#include "passes/ExpertRouting.h"

#include "passes/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace mlir::llama;

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

} // namespace

Pick mlir::llama::startPick(OpBuilder &b, Location loc) {
  return {f32Constant(b, loc, std::numeric_limits<double>::infinity()),
          arith::ConstantIntOp::create(b, loc, b.getI64Type(), -1)};
}

Pick mlir::llama::nextPick(OpBuilder &b, Location loc, LogitAt logitAt, int64_t experts,
                           Pick previous) {
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  Pick none = {f32Constant(b, loc, -std::numeric_limits<double>::infinity()),
               arith::ConstantIntOp::create(b, loc, b.getI64Type(), -1)};
  auto scan = scf::ForOp::create(
      b, loc, zero, indexConstant(b, loc, experts), one, ValueRange{none.logit, none.expert},
      [&](OpBuilder &, Location l, Value e, ValueRange best) {
        using F = arith::CmpFPredicate;
        using I = arith::CmpIPredicate;
        // A NaN logit ranks as -inf: the order stays total, so k passes
        // pick k different experts whatever the logits (pickSums makes
        // such a row's output NaN).
        Value raw = logitAt(b, l, e);
        Value isNan = arith::CmpFOp::create(b, l, F::UNO, raw, raw);
        Value v = arith::SelectOp::create(
            b, l, isNan, f32Constant(b, l, -std::numeric_limits<double>::infinity()), raw);
        Value ei = arith::IndexCastOp::create(b, l, b.getI64Type(), e);
        // After the previous pick: a smaller logit, or an equal one
        // further on.
        Value below = arith::CmpFOp::create(b, l, F::OLT, v, previous.logit);
        Value tied = arith::AndIOp::create(
            b, l, arith::CmpFOp::create(b, l, F::OEQ, v, previous.logit),
            arith::CmpIOp::create(b, l, I::sgt, ei, previous.expert));
        Value eligible = arith::OrIOp::create(b, l, below, tied);
        // Better than the best so far: strictly larger keeps the lower
        // index of a tie; the first eligible one always is.
        Value noneYet = arith::CmpIOp::create(
            b, l, I::slt, best[1], arith::ConstantIntOp::create(b, l, b.getI64Type(), 0));
        Value larger = arith::CmpFOp::create(b, l, F::OGT, v, best[0]);
        Value take = arith::AndIOp::create(b, l, eligible,
                                           arith::OrIOp::create(b, l, noneYet, larger));
        Value logit = arith::SelectOp::create(b, l, take, v, best[0]);
        Value expert = arith::SelectOp::create(b, l, take, ei, best[1]);
        scf::YieldOp::create(b, l, ValueRange{logit, expert});
      });
  return {scan.getResult(0), scan.getResult(1)};
}

std::pair<Value, Value> mlir::llama::pickSums(OpBuilder &b, Location loc, LogitAt logitAt,
                                              int64_t experts, int64_t perToken) {
  Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
  Pick start = startPick(b, loc);
  auto sums = scf::ForOp::create(
      b, loc, zero, indexConstant(b, loc, perToken), one,
      ValueRange{start.logit, start.expert, f32Constant(b, loc, 0.0), f32Constant(b, loc, 0.0)},
      [&](OpBuilder &, Location l, Value j, ValueRange it) {
        Pick pick = nextPick(b, l, logitAt, experts, {it[0], it[1]});
        Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, j, zero);
        Value top = arith::SelectOp::create(b, l, first, pick.logit, it[3]);
        Value e = math::ExpOp::create(b, l, arith::SubFOp::create(b, l, pick.logit, top));
        Value sum = arith::AddFOp::create(b, l, it[2], e);
        scf::YieldOp::create(b, l, ValueRange{pick.logit, pick.expert, sum, top});
      });
  // transformers' softmax over every logit is NaN if one is NaN or
  // infinite: so is the sum here (v - v is 0 for every finite v), and so
  // the row's output, which the runtime then reports.
  auto poison = scf::ForOp::create(
      b, loc, zero, indexConstant(b, loc, experts), one, ValueRange{f32Constant(b, loc, 0.0)},
      [&](OpBuilder &, Location l, Value e, ValueRange it) {
        Value v = logitAt(b, l, e);
        Value nanIfNotFinite = arith::SubFOp::create(b, l, v, v);
        scf::YieldOp::create(b, l, arith::AddFOp::create(b, l, it[0], nanIfNotFinite).getResult());
      });
  Value sum = arith::AddFOp::create(b, loc, sums.getResult(2), poison.getResult(0));
  return {sum, sums.getResult(3)};
}

Value mlir::llama::pickWeight(OpBuilder &b, Location loc, Pick pick, Value top, Value sum) {
  Value e = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, pick.logit, top));
  return arith::DivFOp::create(b, loc, e, sum);
}

Value mlir::llama::pickedExpert(OpBuilder &b, Location loc, Pick pick) {
  Value clamped = arith::MaxSIOp::create(
      b, loc, pick.expert, arith::ConstantIntOp::create(b, loc, b.getI64Type(), 0));
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), clamped);
}

std::pair<Value, Value> mlir::llama::routePick(OpBuilder &b, Location loc, LogitAt logitAt,
                                               int64_t experts, int64_t perToken, Value j) {
  auto [sum, top] = pickSums(b, loc, logitAt, experts, perToken);
  Pick start = startPick(b, loc);
  Value one = indexConstant(b, loc, 1);
  auto passes = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), arith::AddIOp::create(b, loc, j, one), one,
      ValueRange{start.logit, start.expert}, [&](OpBuilder &, Location l, Value, ValueRange it) {
        Pick pick = nextPick(b, l, logitAt, experts, {it[0], it[1]});
        scf::YieldOp::create(b, l, ValueRange{pick.logit, pick.expert});
      });
  Pick pick{passes.getResult(0), passes.getResult(1)};
  return {pickedExpert(b, loc, pick), pickWeight(b, loc, pick, top, sum)};
}
