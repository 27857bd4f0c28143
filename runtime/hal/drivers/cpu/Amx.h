//===- Amx.h - whether this process may run AMX tile kernels ----*- C++ -*-===//
//
// An artifact with AMX variants (target.amx "variants") calls them only
// where both hold: CPUID reports AMX-TILE and AMX-BF16 (the CPU's features,
// not its name: a VM may call a Sapphire Rapids "rocketlake"), and Linux
// grants the process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM for
// XFEATURE_XTILEDATA), without which the first tile instruction faults.
// Otherwise the AVX-512 kernels run: no SIGILL on a CPU without AMX.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H

namespace llamac::hal::cpu {

/// CPUID leaf 7 subleaf 0: EDX bit 24 (AMX-TILE) and bit 22 (AMX-BF16).
bool cpuidReportsAmxBf16();

/// Asks Linux for the AMX tile data state; true when granted (or already
/// granted). Needs Linux 5.16 or later.
bool requestAmxPermission();

/// Both of the above, decided once per process. The environment variable
/// LLAMAC_AMX=off makes it false (to time the AVX-512 kernels of the same
/// artifact on an AMX machine).
bool amxUsable();

} // namespace llamac::hal::cpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H
