//===- ExpandBf16Conversions.cpp - f32 <-> bf16 as integer ops ------------===//
//
// On a chip with neither AVX-512 BF16 nor AVX-NE-CONVERT, LLVM lowers an
// f32 -> bf16 rounding to a call of `__truncsfbf2`, which libgcc has only
// from GCC 13 on: the kernel library of a bf16 KV cache would not load on an
// AVX2-only CPU under Debian 12. MLIR's bf16 expansion patterns compute the
// same rounding (to nearest even) with integer vector ops; this pass applies
// them alone, so f32 kernels and everything else are left as they were.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llama {
#define GEN_PASS_DEF_LLAMAEXPANDBF16CONVERSIONS
#include "passes/Passes.h.inc"
} // namespace mlir::llama

using namespace mlir;

namespace {

struct ExpandBf16ConversionsPass
    : llama::impl::LlamaExpandBf16ConversionsBase<ExpandBf16ConversionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
