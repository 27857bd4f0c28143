//===- ChatInput.h - reading chat turns from a stream -----------*- C++ -*-===//
//
// The turn format of `llama-run --chat` (docs/chat.md): one turn per line;
// a line ending in a backslash continues on the next (the backslash becomes
// a newline), so a turn can hold several lines and a pipe of plain lines
// still works; a trailing CR is dropped (CRLF input); empty lines are no
// turn at all.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_CHATINPUT_H
#define LLAMAC_TOOLS_LLAMA_RUN_CHATINPUT_H

#include "absl/status/statusor.h"

#include <cstdio>
#include <optional>
#include <string>

namespace llamac::tools {

/// The most bytes one turn may have (a file of another kind piped in by
/// mistake is not a turn).
inline constexpr size_t kMaxTurnBytes = 16 << 20;

/// Reads the next turn from `in`: std::nullopt at the end of input. A last
/// line without a newline is a turn too. Errors: a read error, a turn over
/// kMaxTurnBytes.
absl::StatusOr<std::optional<std::string>> readChatTurn(std::FILE *in);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_CHATINPUT_H
