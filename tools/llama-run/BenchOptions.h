//===- BenchOptions.h - the command line of `llama-run bench` ---*- C++ -*-===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_BENCHOPTIONS_H
#define LLAMAC_TOOLS_LLAMA_RUN_BENCHOPTIONS_H

#include "runtime/api/Model.h"
#include "tools/llama-run/ModelFlags.h"
#include "runtime/bench/ModelBench.h"
#include "tools/llama-run/SpeculationFlags.h"

#include "absl/status/statusor.h"

#include <string>
#include <vector>

namespace llamac::tools {

struct BenchCommandOptions : ModelCommandOptions {
  bench::BenchOptions bench;
  SpeculationFlags speculation;
  bool repeatPromptGiven = false;
  bool lookupReferenceGiven = false;
};

/// The usage text printed by `llama-run bench --help`.
std::string benchUsage();

/// Parses the arguments after `bench`. Errors are one line without the
/// "error: " prefix, in the words of parseRunOptions.
absl::StatusOr<BenchCommandOptions>
parseBenchOptions(const std::vector<std::string> &args);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_BENCHOPTIONS_H
