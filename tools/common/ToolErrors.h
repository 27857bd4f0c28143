//===- ToolErrors.h - the error contract every tool's main keeps -*- C++ -*-===//
//
// docs/architecture.md: "Errors go to stderr as one line starting with `error:`
// and give a non-zero exit status; no input, however malformed, crashes a
// tool." These helpers cover what no single code path can: an exception
// that escapes from anywhere (a thread the system refused to create), a
// write past `ulimit -f`, and a standard output that fails (a full disk,
// `> /dev/full`). No LLVM: llama-run links it; absl::string_view because
// the runtime's statuses carry their messages in one.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_COMMON_TOOLERRORS_H
#define LLAMAC_TOOLS_COMMON_TOOLERRORS_H

#include "absl/strings/string_view.h"

#include <string_view>

namespace llamac::tools {

/// Call first in main(). Holds a closed stdin, stdout or stderr on a
/// /dev/null descriptor that fails every read or write with EBADF (a file
/// the tool opens must not take the number). Makes SIGBUS (a mapped file
/// truncated in place) one `error:` line and exit 1. Ignores SIGXFSZ, so
/// that a write past `ulimit -f` fails with EFBIG (and is reported) instead
/// of killing the process, and makes an exception that nothing caught, on any thread, print
/// "error: <what>" and exit with status 1 instead of aborting. `cleanup`,
/// if given, runs first (llamac removes its temporary files).
void installToolErrorHandlers(void (*cleanup)() = nullptr);

/// Whether stdin was closed when installToolErrorHandlers ran: reads of
/// descriptor 0 fail with EBADF, but reopening it by name (/dev/stdin)
/// opens the held /dev/null, which a reader must refuse itself.
bool standardInputWasClosed();

/// Prints "error: <message>" as one line on stderr and returns `status`:
/// `return fail(2, "...")` ends a command with the contract's error line.
int fail(int status, absl::string_view message);

/// Writes `text` to stdout (flushing it if `flush`). Returns false once
/// stdout has failed; the first failure is kept for finishStandardOutput.
bool writeStandardOutput(std::string_view text, bool flush = false);

/// Flushes stdout. If anything written to it failed and fail() has not
/// printed an error line, prints "error: cannot write to standard output:
/// <reason>" and returns `status`, or 1 for 0 (a command that stopped
/// because stdout failed returns non-zero without a line of its own);
/// otherwise returns `status`.
/// main() ends with `return finishStandardOutput(status)`.
int finishStandardOutput(int status);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_COMMON_TOOLERRORS_H
