//===- PrefillKernels.cpp - which kernels run a model's prefill -----------===//

#include "runtime/api/PrefillKernels.h"
#include "runtime/hal/drivers/cpu/Amx.h"

#include <algorithm>

namespace llamac::runtime {

bool useAmxVariants(const TargetInfo &target) {
  return target.name == "cpu" && target.amx == "variants" &&
         hal::cpu::amxUsable(target.amxFeatures);
}

std::string prefillKernelsName(const TargetInfo &target, bool amxRuns) {
  if (target.isGpu()) {
    if (!target.bf16Dot)
      return "simt";
    return target.name == "nvvm" ? "mma.sync" : "mfma";
  }
  if (target.amx == "emulated")
    return "amx-emulated";
  if (amxRuns)
    return "amx";
  if (target.intDot)
    return "vpdpbusd";
  if (target.bf16Dot)
    return target.bf16DotFma ? "bf16-fma-pairs" : "vdpbf16ps";
  const std::vector<std::string> &f = target.cpuFeatures;
  return std::find(f.begin(), f.end(), "avx512f") != f.end() ? "avx512" : "avx2";
}

} // namespace llamac::runtime
