//===- ModelFlags.h - llama-run's flags that set ModelOptions -*- C++ -*-===//
//
// --threads, --device and --max-seq-len mean the same in every command that
// loads a model (generation, `bench`, `eval`), and so do --help, --json and
// --quiet: parsed here once, so their ranges and error words cannot drift
// apart.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_MODELFLAGS_H
#define LLAMAC_TOOLS_LLAMA_RUN_MODELFLAGS_H

#include "runtime/api/Model.h"

#include "absl/status/statusor.h"

#include <string>

namespace llamac::tools {

/// What every command that loads one artifact has; each command's options
/// add their own to it.
struct ModelCommandOptions {
  bool help = false;
  std::string artifact;
  ModelOptions model;
  bool json = false;  ///< --json: one JSON object as stdout's last line
  bool quiet = false; ///< --quiet: no progress on stderr
};

/// Applies `name` if it is one of these flags (--threads, --max-seq-len,
/// --device, --help, --json, --quiet): true, else leaves it (false). Which
/// of them a command accepts is its FlagSpec's business.
absl::StatusOr<bool> applyModelCommandFlag(ModelCommandOptions &o, const std::string &name,
                                           const std::string &value);

/// The `warning:` line for what of `options` a model on device `deviceName`
/// ignores, or "": --threads sizes the cpu device's pool, and a GPU's grids
/// cover the work whatever it says.
std::string ignoredModelFlagsWarning(const ModelOptions &options, const std::string &deviceName);

/// Writes ignoredModelFlagsWarning's line, if any, to stderr.
void warnAboutIgnoredModelFlags(const ModelOptions &options, const Model &model);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_MODELFLAGS_H
