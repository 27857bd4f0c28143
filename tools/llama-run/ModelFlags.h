//===- ModelFlags.h - llama-run's flags that set ModelOptions -*- C++ -*-===//
//
// --threads, --device and --max-seq-len mean the same in every command that
// loads a model (generation, `bench`, `eval`): parsed here once, so their
// ranges and error words cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_MODELFLAGS_H
#define LLAMAC_TOOLS_LLAMA_RUN_MODELFLAGS_H

#include "runtime/api/Model.h"

#include "absl/status/statusor.h"

#include <string>

namespace llamac::tools {

/// Applies `name` if it is one of these flags (true), else leaves it
/// (false). Which of them a command accepts is its FlagSpec's business.
absl::StatusOr<bool> applyModelFlag(ModelOptions &model, const std::string &name,
                                    const std::string &value);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_MODELFLAGS_H
