//===- Amx.h - whether this process may run AMX tile kernels ----*- C++ -*-===//
//
// An artifact with AMX variants (target.amx "variants") calls them only
// where both hold: CPUID reports AMX-TILE, AMX-BF16 and AMX-INT8 (the CPU's
// features, not its name: a VM may call a Sapphire Rapids "rocketlake"; bf16
// variants need the first two, int8 ones the first and last, and every AMX
// chip has all three), and Linux grants the process the tile data state
// (arch_prctl ARCH_REQ_XCOMP_PERM for
// XFEATURE_XTILEDATA), without which the first tile instruction faults.
// Otherwise the AVX-512 kernels run: no SIGILL on a CPU without AMX.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H

namespace llamac::hal::cpu {

/// CPUID leaf 7 subleaf 0: EDX bit 24 (AMX-TILE), bit 22 (AMX-BF16) and
/// bit 25 (AMX-INT8).
bool cpuidReportsAmx();

/// Asks Linux for the AMX tile data state; true when granted (or already
/// granted). Needs Linux 5.16 or later.
bool requestAmxPermission();

/// Both of the above, decided once per process. The environment variable
/// LLAMAC_AMX=off makes it false (to time the AVX-512 kernels of the same
/// artifact on an AMX machine).
bool amxUsable();

} // namespace llamac::hal::cpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CPU_AMX_H
