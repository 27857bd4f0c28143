//===- FuseProjections.cpp - projections of the same rows as one group ----===//
//
// q, k and v are three GEMVs over the same normalized rows; k and v are
// small under GQA (a TinyLlama layer: 2048 + 256 + 256 rows). As one group
// they are one kernel launch whose work range spans all the rows, split
// evenly over the threads, instead of three launches, two of them too small
// to split well.
//
//===----------------------------------------------------------------------===//

#include "dialects/llama/LlamaOps.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAFUSEPROJECTIONS
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;
using namespace mlir::llama;

namespace {

/// Groups the plain projections of `input` in `block` (in block order) when
/// every use of their results comes after the last of them, where the group
/// is placed.
void fuseProjectionsOf(Value input, Block *block, IRRewriter &rewriter) {
  SmallVector<LinearOp> group;
  for (Operation *user : input.getUsers())
    if (auto linear = dyn_cast<LinearOp>(user);
        linear && !linear.getResidual() && linear.getInput() == input &&
        linear->getBlock() == block)
      group.push_back(linear);
  if (group.size() < 2)
    return;
  llvm::sort(group, [](LinearOp a, LinearOp b) { return a->isBeforeInBlock(b); });
  Operation *last = group.back();
  for (LinearOp linear : group)
    for (Operation *user : linear->getUsers())
      if (user->getBlock() != block || user->isBeforeInBlock(last))
        return;

  SmallVector<Value> weights;
  SmallVector<Type> types;
  for (LinearOp linear : group) {
    weights.push_back(linear.getWeight());
    types.push_back(linear.getType());
  }
  rewriter.setInsertionPointAfter(last);
  auto fused = LinearGroupOp::create(rewriter, last->getLoc(), types, input, weights);
  for (auto [linear, result] : llvm::zip(group, fused.getResults()))
    rewriter.replaceOp(linear, result);
}

struct LlamaFuseProjectionsPass
    : llama::impl::LlamaFuseProjectionsBase<LlamaFuseProjectionsPass> {
  void runOnOperation() override {
    // Collect first: fusing rewrites the uses being walked.
    SmallVector<std::pair<Value, Block *>> candidates;
    llvm::DenseSet<std::pair<Value, Block *>> seen;
    getOperation().walk([&](LinearOp linear) {
      auto key = std::make_pair(linear.getInput(), linear->getBlock());
      if (seen.insert(key).second)
        candidates.push_back(key);
    });
    IRRewriter rewriter(&getContext());
    for (auto [input, block] : candidates)
      fuseProjectionsOf(input, block, rewriter);
  }
};

} // namespace
