//===- MixtureOfExperts.h - lowering llama.moe for the CPU ------*- C++ -*-===//

#ifndef LLAMAC_PASSES_MIXTUREOFEXPERTS_H
#define LLAMAC_PASSES_MIXTUREOFEXPERTS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::llama {

/// llama.moe as a loop over rows and their picked experts, each expert's
/// projections as llama.linear / llama.swiglu on its slice of the stacked
/// weights (lowered by the same pass's patterns).
void populateMixtureOfExpertsLowering(RewritePatternSet &patterns);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_MIXTUREOFEXPERTS_H
