//===- EvalCommand.h - `llama-run eval` -------------------------*- C++ -*-===//
//
// Same contract as the other commands: the result on stdout (one line, or
// with --json one JSON object as the last line), progress on stderr, errors
// as one `error: ...` line on stderr, exit 2 for usage errors and 1 for the
// rest.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_EVALCOMMAND_H
#define LLAMAC_TOOLS_LLAMA_RUN_EVALCOMMAND_H

#include <string>
#include <vector>

namespace llamac::tools {

/// Runs `llama-run eval` with the arguments after "eval"; returns the exit
/// status.
int runEvalCommand(const std::vector<std::string> &args);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_EVALCOMMAND_H
