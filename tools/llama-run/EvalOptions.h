//===- EvalOptions.h - the command line of `llama-run eval` -----*- C++ -*-===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_EVALOPTIONS_H
#define LLAMAC_TOOLS_LLAMA_RUN_EVALOPTIONS_H

#include "runtime/api/Model.h"
#include "tools/llama-run/ModelFlags.h"
#include "runtime/eval/Perplexity.h"

#include "absl/status/statusor.h"

#include <string>
#include <vector>

namespace llamac::tools {

struct EvalCommandOptions : ModelCommandOptions {
  /// The text file (--text).
  std::string textPath;
  eval::EvalOptions eval;
};

/// The usage text printed by `llama-run eval --help`.
std::string evalUsage();

/// Parses the arguments after `eval`. Errors are one line without the
/// "error: " prefix, in the words of parseRunOptions.
absl::StatusOr<EvalCommandOptions>
parseEvalOptions(const std::vector<std::string> &args);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_EVALOPTIONS_H
