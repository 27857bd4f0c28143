//===- MixtureOfExperts.h - lowering llama.moe for the CPU ------*- C++ -*-===//

#ifndef LLAMAC_PASSES_MIXTUREOFEXPERTS_H
#define LLAMAC_PASSES_MIXTUREOFEXPERTS_H

#include "dialects/llama/LlamaOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::llama {

/// llama.moe as a loop over rows and their picked experts, each expert's
/// projections as llama.linear / llama.swiglu on its slice of the stacked
/// weights (lowered by the same pass's patterns): split into its halves,
/// each lowered on its own.
void populateMixtureOfExpertsLowering(RewritePatternSet &patterns);

/// llama.moe rewritten as llama.moe_swiglu and llama.moe_down.
void populateMixtureOfExpertsSplit(RewritePatternSet &patterns);

/// `op`'s two halves, built at `b`'s insertion point: the result replaces
/// `op`'s.
Value splitMixtureOfExperts(OpBuilder &b, MixtureOfExpertsOp op);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_MIXTUREOFEXPERTS_H
