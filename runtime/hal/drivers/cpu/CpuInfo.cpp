//===- CpuInfo.cpp - what /proc/cpuinfo says about this machine -----------===//

#include "runtime/hal/drivers/cpu/CpuInfo.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

namespace llamac::hal::cpu {

namespace {

/// Splits "key\t: value" into its stripped key and value.
bool splitField(absl::string_view line, absl::string_view &key,
                absl::string_view &value) {
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos)
    return false;
  key = absl::StripAsciiWhitespace(line.substr(0, colon));
  value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  return true;
}

} // namespace

std::string readProcCpuinfo() {
  std::ifstream in("/proc/cpuinfo");
  if (!in)
    return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<std::string> parseCpuFlags(absl::string_view cpuinfo) {
  std::set<std::string> flags;
  for (absl::string_view line : absl::StrSplit(cpuinfo, '\n')) {
    absl::string_view key, value;
    if (!splitField(line, key, value) || key != "flags")
      continue;
    for (absl::string_view flag :
         absl::StrSplit(value, absl::ByAnyChar(" \t"), absl::SkipEmpty()))
      flags.emplace(flag);
    break;
  }
  return flags;
}

int countPhysicalCores(absl::string_view cpuinfo) {
  std::set<std::pair<std::string, std::string>> cores;
  std::string physicalId, coreId;
  auto endProcessor = [&] {
    if (!coreId.empty())
      cores.emplace(physicalId, coreId);
    physicalId.clear();
    coreId.clear();
  };
  for (absl::string_view line : absl::StrSplit(cpuinfo, '\n')) {
    absl::string_view key, value;
    if (!splitField(line, key, value)) {
      if (absl::StripAsciiWhitespace(line).empty())
        endProcessor();
      continue;
    }
    if (key == "processor")
      endProcessor();
    else if (key == "physical id")
      physicalId = std::string(value);
    else if (key == "core id")
      coreId = std::string(value);
  }
  endProcessor();
  return static_cast<int>(cores.size());
}

int defaultThreadCount() {
  int cores = countPhysicalCores(readProcCpuinfo());
  if (cores > 0)
    return cores;
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

absl::Status checkCpuFeatures(const std::string &artifactPath,
                              const std::vector<std::string> &required,
                              absl::string_view cpuinfo) {
  std::set<std::string> flags = parseCpuFlags(cpuinfo);
  if (flags.empty())
    return absl::OkStatus();
  std::vector<std::string> missing;
  for (const std::string &feature : required)
    if (!flags.count(feature))
      missing.push_back(feature);
  if (missing.empty())
    return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(artifactPath,
                   " was compiled for CPU features this machine "
                   "lacks: ",
                   absl::StrJoin(missing, ", ")));
}

absl::Status checkCpuFeatures(const std::string &artifactPath,
                              const std::vector<std::string> &required) {
  return checkCpuFeatures(artifactPath, required, readProcCpuinfo());
}

} // namespace llamac::hal::cpu
