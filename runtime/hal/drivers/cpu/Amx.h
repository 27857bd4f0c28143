//===- Amx.h - whether this process may run AMX tile kernels ----*- C++ -*-===//
//
// An artifact with AMX variants (target.amx "variants") calls them only
// where both hold: CPUID reports the AMX features its variants need
// (target.amx_features: AMX-TILE, and AMX-BF16 for bf16 weights' tdpbf16ps,
// AMX-INT8 for int8/int4 weights' tdpbssd; the CPU's features, not its
// name: a VM may call a Sapphire Rapids "rocketlake"), and Linux grants the
// process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM for
// XFEATURE_XTILEDATA), without which the first tile instruction faults.
// Otherwise the AVX-512 kernels run: no SIGILL on a CPU without AMX.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H

#include <string>
#include <vector>

namespace llamac::hal::cpu {

/// Whether `edx`, CPUID leaf 7 subleaf 0's EDX, has every feature of
/// `features` (cpuinfo names: amx_tile bit 24, amx_bf16 bit 22, amx_int8
/// bit 25); an empty list asks for all three, an unknown name is missing.
bool amxFeaturesInCpuid(unsigned edx, const std::vector<std::string> &features);

/// amxFeaturesInCpuid on this CPU.
bool cpuidReportsAmx(const std::vector<std::string> &features = {});

/// Asks Linux for the AMX tile data state; true when granted (or already
/// granted). Needs Linux 5.16 or later.
bool requestAmxPermission();

/// Both of the above (the permission asked once per process). The
/// environment variable LLAMAC_AMX=off makes it false (to time the AVX-512
/// kernels of the same artifact on an AMX machine).
bool amxUsable(const std::vector<std::string> &features = {});

} // namespace llamac::hal::cpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H
