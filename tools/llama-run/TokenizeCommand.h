//===- TokenizeCommand.h - `llama-run tokenize` -----------------*- C++ -*-===//
//
//   llama-run tokenize <artifact> --text S | --text-file F [--allow-special]
//                     [--json]
//   llama-run tokenize <artifact> --ids 1,2,3 [--json]
//
// Encodes text with the artifact's tokenizer (no BOS added) and prints the
// ids, comma-separated (`--json`: {"ids": [...], "tokens": [...]}), or
// decodes ids to text. Only the tokenizer section is read. Same error
// contract as the other commands.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_TOKENIZECOMMAND_H
#define LLAMAC_TOOLS_LLAMA_RUN_TOKENIZECOMMAND_H

#include <string>
#include <vector>

namespace llamac::tools {

/// Runs `llama-run tokenize` with the arguments after "tokenize"; returns
/// the exit status.
int runTokenizeCommand(const std::vector<std::string> &args);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_TOKENIZECOMMAND_H
