//===- MixtureOfExperts.h - lowering llama.moe for the CPU ------*- C++ -*-===//

#ifndef LLAMAC_PASSES_MIXTUREOFEXPERTS_H
#define LLAMAC_PASSES_MIXTUREOFEXPERTS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::llama {

/// llama.moe as a loop over rows and their picked experts, each expert's
/// projections as llama.linear / llama.swiglu on its slice of the stacked
/// weights (lowered by the same pass's patterns): split into its halves,
/// each lowered on its own.
void populateMixtureOfExpertsLowering(RewritePatternSet &patterns);

/// llama.moe rewritten as llama.moe_swiglu and llama.moe_down
/// (SplitMixtureOfExperts.cpp).
void populateMixtureOfExpertsSplit(RewritePatternSet &patterns);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_MIXTUREOFEXPERTS_H
