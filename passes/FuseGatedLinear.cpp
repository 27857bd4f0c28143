//===- FuseGatedLinear.cpp - gate/up projections + SwiGLU as one op -------===//
//
// The Llama MLP computes silu(y·W1ᵀ) * (y·W3ᵀ). As three ops that is three
// kernel launches and two [tokens, hidden] intermediates that are written
// and read back; as one op a thread computes both projections of its hidden
// rows and combines them while they are in cache.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAFUSEGATEDLINEAR
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {
struct FuseSwiGLUOfProjections : OpRewritePattern<SwiGLUOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SwiGLUOp op, PatternRewriter &rewriter) const override {
    auto gate = op.getGate().getDefiningOp<LinearOp>();
    auto up = op.getUp().getDefiningOp<LinearOp>();
    if (!gate || !up || gate == up || gate.getResidual() || up.getResidual() ||
        !gate->hasOneUse() || !up->hasOneUse() || gate.getInput() != up.getInput() ||
        gate.getWeight().getType() != up.getWeight().getType())
      return rewriter.notifyMatchFailure(op, "not two single-use projections of one input");
    rewriter.replaceOpWithNewOp<GatedLinearOp>(op, op.getType(), gate.getInput(),
                                               gate.getWeight(), up.getWeight());
    rewriter.eraseOp(gate);
    rewriter.eraseOp(up);
    return success();
  }
};

struct LlamaFuseGatedLinearPass
    : llama::impl::LlamaFuseGatedLinearBase<LlamaFuseGatedLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseSwiGLUOfProjections>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
