//===- CpuInfo.h - what /proc/cpuinfo says about this machine ---*- C++ -*-===//
//
// Feature flags (to refuse kernels this CPU cannot run, instead of dying of
// SIGILL) and the physical core count (the default thread count: decode is
// bandwidth-bound and hyperthreads only add contention). Parsers take the
// text so that tests can feed them any cpuinfo.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CPU_CPUINFO_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CPU_CPUINFO_H

#include "absl/status/status.h"

#include "absl/strings/string_view.h"
#include <set>
#include <string>
#include <vector>

namespace llamac::hal::cpu {

/// The contents of /proc/cpuinfo, or "" when it cannot be read.
std::string readProcCpuinfo();

/// The flags of the first `flags` line.
std::set<std::string> parseCpuFlags(absl::string_view cpuinfo);

/// Unique (physical id, core id) pairs; 0 when the text has none.
int countPhysicalCores(absl::string_view cpuinfo);

/// Physical cores of this machine, else std::thread::hardware_concurrency,
/// else 1.
int defaultThreadCount();

/// Ok when this machine has every feature in `required`; otherwise
/// "<artifactPath> was compiled for CPU features this machine lacks: a, b".
/// `cpuinfo` defaults to this machine's. When no flags can be read (not
/// Linux/x86) the check is skipped rather than refusing every artifact.
absl::Status checkCpuFeatures(const std::string &artifactPath,
                              const std::vector<std::string> &required,
                              absl::string_view cpuinfo);
absl::Status checkCpuFeatures(const std::string &artifactPath,
                              const std::vector<std::string> &required);

} // namespace llamac::hal::cpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CPU_CPUINFO_H
