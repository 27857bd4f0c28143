//===- FuseIntoConsumers.cpp - cheap producers recomputed by consumers ----===//
//
// An RMSNorm reads and writes one row per token; the projections after it
// read megabytes of weights. Recomputing the norm inside each projection's
// kernel costs little and saves a launch (with its thread wake-ups) and a
// buffer round trip. Likewise RoPE inside the cache write and attention.
// A quantized weight's dequantization is recomputed by its projection for
// another reason: so that it is never materialized at all.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/Passes.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAFUSEINTOCONSUMERS
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

/// True when every use of `op`'s result is an operand `consumes` accepts.
template <typename Fn>
bool allUsesAre(Operation *op, Fn consumes) {
  Value result = op->getResult(0);
  if (result.use_empty())
    return false;
  for (OpOperand &use : result.getUses())
    if (!consumes(use))
      return false;
  return true;
}

struct LlamaFuseIntoConsumersPass
    : llama::impl::LlamaFuseIntoConsumersBase<LlamaFuseIntoConsumersPass> {
  using LlamaFuseIntoConsumersBase::LlamaFuseIntoConsumersBase;

  void runOnOperation() override {
    UnitAttr mark = UnitAttr::get(&getContext());
    getOperation().walk([&](Operation *op) {
      bool fuse = false;
      if (isa<DequantizeOp>(op))
        fuse = allUsesAre(op, [](OpOperand &use) {
          // A mixture's experts are dequantized in its kernel as a
          // projection's weight is (LowerMixtureOfExperts.cpp).
          if (auto moe = dyn_cast<MixtureOfExpertsOp>(use.getOwner()))
            return &use != &moe.getInputMutable() && &use != &moe.getRouterLogitsMutable();
          auto projection = dyn_cast<ProjectionOpInterface>(use.getOwner());
          return projection && &use != &projection.getInputMutable();
        });
      else if (isa<RMSNormOp>(op) && norms)
        fuse = allUsesAre(op, [](OpOperand &use) {
          auto projection = dyn_cast<ProjectionOpInterface>(use.getOwner());
          return projection && &use == &projection.getInputMutable();
        });
      else if (isa<RopeOp>(op))
        fuse = allUsesAre(op, [](OpOperand &use) {
          Operation *user = use.getOwner();
          return (isa<KVWriteOp>(user) && use.getOperandNumber() == 0) ||
                 (isa<AttentionOp>(user) && use.getOperandNumber() == 0);
        });
      if (fuse)
        op->setAttr(kRecomputeAttr, mark);
    });
  }
};

} // namespace
