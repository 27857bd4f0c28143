//===- PrefillKernels.h - which kernels run a model's prefill ---*- C++ -*-===//
//
// `llama-run bench --json` and a generation's `--json` name the kernels
// that ran prefill's projections as `model.prefill_kernels`, so that a
// number is never read as the AMX path's when the AVX-512 one ran.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_PREFILLKERNELS_H
#define LLAMAC_RUNTIME_API_PREFILLKERNELS_H

#include "runtime/artifact/ArtifactSchema.h"

#include <string>

namespace llamac::runtime {

/// Whether the AMX variants of an artifact with target.amx "variants" run
/// here (hal::cpu::amxUsable() for the features they need).
bool useAmxVariants(const TargetInfo &target);

/// "amx", "amx-emulated", "vdpbf16ps", "bf16-fma-pairs", "vpdpbusd",
/// "avx512" or "avx2" on the CPU; "mma.sync", "mfma" or "simt" on GPUs.
/// `amxRuns`: the AMX variants were chosen.
std::string prefillKernelsName(const TargetInfo &target, bool amxRuns);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_API_PREFILLKERNELS_H
