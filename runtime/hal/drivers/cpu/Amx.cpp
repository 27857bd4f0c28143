//===- Amx.cpp - whether this process may run AMX tile kernels ------------===//

#include "runtime/hal/drivers/cpu/Amx.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace llamac::hal::cpu {

namespace {
// From the kernel's arch/x86/include/uapi/asm/prctl.h and fpu/types.h.
constexpr int kArchGetXcompPerm = 0x1022;
constexpr int kArchReqXcompPerm = 0x1023;
constexpr int kXfeatureXtiledata = 18;
} // namespace

bool amxFeaturesInCpuid(unsigned edx, const std::vector<std::string> &features) {
  auto bit = [](const std::string &name) -> unsigned {
    return name == "amx_tile" ? 1u << 24 : name == "amx_bf16" ? 1u << 22
                                        : name == "amx_int8" ? 1u << 25
                                                             : 0;
  };
  std::vector<std::string> all{"amx_tile", "amx_bf16", "amx_int8"};
  for (const std::string &f : features.empty() ? all : features)
    if (!bit(f) || !(edx & bit(f)))
      return false;
  return true;
}

bool cpuidReportsAmx(const std::vector<std::string> &features) {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return false;
  return amxFeaturesInCpuid(edx, features);
#else
  (void)features;
  return false;
#endif
}

bool requestAmxPermission() {
#if defined(__x86_64__)
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0)
    return false;
  // Granted: the permitted features now include the tile data.
  unsigned long long permitted = 0;
  if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &permitted) != 0)
    return false;
  return permitted & (1ull << kXfeatureXtiledata);
#else
  return false;
#endif
}

bool amxUsable(const std::vector<std::string> &features) {
  static const bool permitted = [] {
    const char *setting = std::getenv("LLAMAC_AMX");
    if (setting && std::strcmp(setting, "off") == 0)
      return false;
    return cpuidReportsAmx({"amx_tile"}) && requestAmxPermission();
  }();
  return permitted && cpuidReportsAmx(features);
}

} // namespace llamac::hal::cpu
