//===- ModelFlags.cpp - llama-run's flags that set ModelOptions ----------===//

#include "tools/llama-run/ModelFlags.h"

#include "tools/llama-run/Flags.h"

#include "runtime/hal/Device.h"

#include "absl/strings/str_cat.h"

#include <cstdio>
#include <limits>

namespace llamac::tools {

namespace {

absl::StatusOr<bool> applyModelFlag(ModelOptions &model, const std::string &name,
                                    const std::string &value) {
  if (name == "--threads") {
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 1, hal::kMaxCpuThreads);
    if (!v.ok())
      return v.status();
    model.threads = static_cast<int>(*v);
  } else if (name == "--max-seq-len") {
    absl::StatusOr<int64_t> v =
        parseIntFlag(name, value, 1, std::numeric_limits<int64_t>::max());
    if (!v.ok())
      return v.status();
    model.maxSeqLen = *v;
  } else if (name == "--device") {
    absl::StatusOr<std::string> v = parseDeviceFlag(value);
    if (!v.ok())
      return v.status();
    model.device = *v;
  } else {
    return false;
  }
  return true;
}

} // namespace

absl::StatusOr<bool> applyModelCommandFlag(ModelCommandOptions &o, const std::string &name,
                                           const std::string &value) {
  if (name == "--help")
    o.help = true;
  else if (name == "--json")
    o.json = true;
  else if (name == "--quiet")
    o.quiet = true;
  else
    return applyModelFlag(o.model, name, value);
  return true;
}

std::string ignoredModelFlagsWarning(const ModelOptions &options, const std::string &deviceName) {
  if (options.threads == 0 || deviceName == "cpu")
    return "";
  return absl::StrCat("warning: --threads has no effect on the ", deviceName,
                      " device (it sizes the cpu device's threads)");
}

void warnAboutIgnoredModelFlags(const ModelOptions &options, const Model &model) {
  std::string warning = ignoredModelFlagsWarning(options, model.device().name());
  if (!warning.empty())
    std::fprintf(stderr, "%s\n", warning.c_str());
}

} // namespace llamac::tools
