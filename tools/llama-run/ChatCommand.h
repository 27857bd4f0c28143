//===- ChatCommand.h - `llama-run <artifact> --chat` ------------*- C++ -*-===//
//
// A conversation on standard input and output (docs/chat.md): one user turn
// per line (a line ending in a backslash continues on the next; empty lines
// are skipped), each answer streamed to stdout and ended by a newline
// (`--json`: one JSON object per turn instead), per-turn statistics on
// stderr. End of input ends it with status 0; Ctrl-C stops the answer being
// written, or at the prompt ends the program; a full context is said on
// stderr and ends it with status 0.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_CHATCOMMAND_H
#define LLAMAC_TOOLS_LLAMA_RUN_CHATCOMMAND_H

#include "runtime/api/Model.h"
#include "tools/llama-run/Options.h"

#include <memory>

namespace llamac {
class Session;
} // namespace llamac

namespace llamac::tools {

/// Runs the conversation `o` asks for in `session` of `model`; returns the
/// exit status (errors are printed as one `error:` line).
int runChat(const RunOptions &o, const Model &model, Session &session);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_CHATCOMMAND_H
