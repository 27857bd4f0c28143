//===- MachineMemory.cpp - cache and memory sizes for the read probe ------===//

#include "runtime/bench/MachineMemory.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace llamac::bench {

namespace {

std::string readText(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr uint64_t kBlock = 4096;

} // namespace

uint64_t parseCacheSize(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  uint64_t scale = 1;
  if (!text.empty()) {
    char unit = absl::ascii_toupper(text.back());
    if (unit == 'K' || unit == 'M' || unit == 'G') {
      scale = unit == 'K' ? 1ull << 10 : unit == 'M' ? 1ull << 20 : 1ull << 30;
      text.remove_suffix(1);
    }
  }
  uint64_t value;
  if (!absl::SimpleAtoi(text, &value))
    return 0;
  return value * scale;
}

uint64_t parseMemAvailable(absl::string_view meminfo) {
  for (absl::string_view line : absl::StrSplit(meminfo, '\n')) {
    if (!absl::ConsumePrefix(&line, "MemAvailable:"))
      continue;
    line = absl::StripAsciiWhitespace(line);
    // Always "<n> kB" on Linux.
    uint64_t kib;
    if (!absl::ConsumeSuffix(&line, "kB") ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kib))
      return 0;
    return kib * 1024;
  }
  return 0;
}

uint64_t lastLevelCacheBytes() {
  uint64_t best = 0;
  int bestLevel = 0;
  for (int index = 0; index < 8; ++index) {
    std::string dir =
        absl::StrCat("/sys/devices/system/cpu/cpu0/cache/index", index, "/");
    int level;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(readText(dir + "level")),
                          &level))
      continue;
    uint64_t bytes = parseCacheSize(readText(dir + "size"));
    if (level > bestLevel || (level == bestLevel && bytes > best)) {
      best = bytes;
      bestLevel = level;
    }
  }
  return best;
}

uint64_t availableMemoryBytes() {
  return parseMemAvailable(readText("/proc/meminfo"));
}

uint64_t defaultProbeBytes(uint64_t llcBytes, uint64_t availableBytes) {
  uint64_t bytes = std::max<uint64_t>(1ull << 30, 4 * llcBytes);
  if (availableBytes > 0)
    bytes = std::min(bytes, availableBytes / 2);
  return std::max(kBlock, bytes / kBlock * kBlock);
}

} // namespace llamac::bench
