//===- SplitMixtureOfExperts.cpp - llama.moe as its two halves ------------===//
//
// One kernel for a whole llama.moe ran on one thread: its output is a sum
// over the picked experts, which no range of output features splits. Its
// halves each have output features of their own (the hidden units of the
// picks' SwiGLU rows, then dim), so the partitioner splits each over the
// threads as it does a dense projection (LowerMixtureOfExperts.cpp lowers
// them).
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/MixtureOfExperts.h"
#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMASPLITMIXTUREOFEXPERTS
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

/// llama.moe as its two halves, reading the same router logits.
struct SplitMixtureOfExperts : OpRewritePattern<MixtureOfExpertsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MixtureOfExpertsOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto gate = cast<RankedTensorType>(op.getGate().getType());
    auto hiddenType =
        RankedTensorType::get({input.getDimSize(0), op.getExpertsPerToken(), gate.getDimSize(1)},
                              input.getElementType());
    Value hidden = MoeSwiGLUOp::create(rewriter, op.getLoc(), hiddenType, op.getInput(),
                                       op.getRouterLogits(), op.getGate(), op.getUp(),
                                       op.getExpertsPerTokenAttr());
    rewriter.replaceOpWithNewOp<MoeDownOp>(op, op.getType(), hidden, op.getRouterLogits(),
                                           op.getDown(), op.getExpertsPerTokenAttr());
    return success();
  }
};

struct LlamaSplitMixtureOfExpertsPass
    : llama::impl::LlamaSplitMixtureOfExpertsBase<LlamaSplitMixtureOfExpertsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMixtureOfExpertsSplit(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::llama::populateMixtureOfExpertsSplit(RewritePatternSet &patterns) {
  patterns.add<SplitMixtureOfExperts>(patterns.getContext());
}
