//===- CheckCommand.h - `llama-run check` -----------------------*- C++ -*-===//
//
// Verifies an artifact (runtime/artifact/ArtifactCheck.h): progress on
// stderr, one summary line on stdout, exit 0 when the artifact is intact,
// 1 with one `error: ...` line when it is not, 2 for usage errors.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_CHECKCOMMAND_H
#define LLAMAC_TOOLS_LLAMA_RUN_CHECKCOMMAND_H

#include <string>
#include <vector>

namespace llamac::tools {

/// Runs `llama-run check` with the arguments after "check"; returns the
/// exit status.
int runCheckCommand(const std::vector<std::string> &args);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_CHECKCOMMAND_H
