//===- FuseResidualAdd.cpp - residual adds as linear-layer epilogues ------===//
//
// `h + x·Wᵀ` is the residual connection after the attention output and the
// MLP down projection. Folding the add into the projection makes the GEMV
// start its accumulators from `h`: one kernel launch and one pass over the
// activations fewer per residual, and no buffer for the projection alone.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAFUSERESIDUALADD
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {
struct FuseAddIntoLinear : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    for (auto [projected, residual] :
         {std::pair{add.getRhs(), add.getLhs()}, std::pair{add.getLhs(), add.getRhs()}}) {
      auto linear = projected.getDefiningOp<LinearOp>();
      // Only a projection used by this add alone, with no residual yet.
      if (!linear || linear.getResidual() || !linear->hasOneUse() ||
          residual.getType() != linear.getType())
        continue;
      rewriter.replaceOpWithNewOp<LinearOp>(add, linear.getType(), linear.getInput(),
                                            linear.getWeight(), residual);
      rewriter.eraseOp(linear);
      return success();
    }
    return rewriter.notifyMatchFailure(add, "no single-use linear operand");
  }
};

struct LlamaFuseResidualAddPass
    : llama::impl::LlamaFuseResidualAddBase<LlamaFuseResidualAddPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAddIntoLinear>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
