//===- TextFile.h - a prompt or text the user names by path ------*- C++ -*-===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_TEXTFILE_H
#define LLAMAC_TOOLS_LLAMA_RUN_TEXTFILE_H

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <string>

namespace llamac::tools {

/// The whole of `path` (`-` or `/dev/stdin`: standard input); an empty file
/// is an empty text. Errors name the path and `what` ("prompt", "text"):
/// unreadable (missing, a directory, an I/O error), standard input while it
/// is refused (refuseStandardInput), or over 64 MiB, which is a mistake (a
/// model file given as the prompt), not text to tokenize.
absl::StatusOr<std::string> readTextFile(const std::string &path, absl::string_view what);

/// From now on readTextFile refuses standard input, saying `why`: under
/// mpirun, which gives it to rank 0 only, the other ranks would read
/// another text and wait forever in an all-reduce. Every rank refuses the
/// same arguments, so all stop with the same error.
void refuseStandardInput(std::string why);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_TEXTFILE_H
