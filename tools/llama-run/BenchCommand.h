//===- BenchCommand.h - `llama-run bench` -----------------------*- C++ -*-===//
//
// Same contract as the generate command: results on stdout (a table, or
// with --json one JSON object as the last line), progress on stderr, errors
// as one `error: ...` line on stderr, exit 2 for usage errors and 1 for the
// rest.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_BENCHCOMMAND_H
#define LLAMAC_TOOLS_LLAMA_RUN_BENCHCOMMAND_H

#include <string>
#include <vector>

namespace llamac::tools {

/// Runs `llama-run bench` with the arguments after "bench"; returns the
/// exit status.
int runBenchCommand(const std::vector<std::string> &args);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_BENCHCOMMAND_H
