//===- PrefillKPanels.h - the default k panel of CPU prefill -----*- C++ -*-===//
//
// One definition for llama-vectorize-linear's option (passes/Passes.td) and
// the compiler's settings that pass it on, in a header without MLIR so the
// driver's headers can include it.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_PREFILLKPANELS_H
#define LLAMAC_PASSES_PREFILLKPANELS_H

#include <cstdint>

namespace llamac {

/// prefill-k-panel-bytes: half of a 48 KiB L1 data cache (Zen 4/5, Sapphire
/// Rapids) for a row block's weights of one panel, the rest for the token
/// block's activations (docs/cpu-target.md, "k panels").
inline constexpr int64_t kDefaultPrefillKPanelBytes = 24576;

} // namespace llamac

#endif // LLAMAC_PASSES_PREFILLKPANELS_H
