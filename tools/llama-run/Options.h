//===- Options.h - llama-run's command line ---------------------*- C++ -*-===//
//
// A small parser of our own rather than absl flags: absl's parser prints its
// own "ERROR: ..." lines and exits, which breaks the CLI contract (one line
// "error: ..." on stderr, exit status 2 for usage errors).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_OPTIONS_H
#define LLAMAC_TOOLS_LLAMA_RUN_OPTIONS_H

#include "runtime/api/Generation.h"
#include "runtime/api/Model.h"
#include "tools/llama-run/ModelFlags.h"
#include "tools/llama-run/SpeculationFlags.h"

#include "absl/status/statusor.h"

#include <string>
#include <vector>

namespace llamac::tools {

struct RunOptions : ModelCommandOptions {
  std::string prompt;
  bool hasPrompt = false;
  GenerateOptions generate;
  SpeculationFlags speculation;
  /// --chat: a conversation read from standard input (ChatCommand.h).
  bool chat = false;
  /// --system: the conversation's system prompt.
  std::string system;
  /// --system was given (an empty one too: without --chat it is an error).
  bool hasSystem = false;
  /// --chat-template: overrides the artifact's; empty = the artifact's.
  std::string chatTemplate;
  /// The sampling flags given (--top-k, --top-p, --min-p, --seed) when
  /// greedy decoding (temperature 0) ignores them: llama-run warns.
  std::vector<std::string> ignoredSamplingFlags;
};

/// The usage text printed by --help.
std::string usage();

/// Parses argv[1..]. Accepts `--flag value` and `--flag=value`. Errors are
/// one line without the "error: " prefix.
absl::StatusOr<RunOptions>
parseRunOptions(const std::vector<std::string> &args);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_OPTIONS_H
