//===- TextFile.h - a prompt or text the user names by path ------*- C++ -*-===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_TEXTFILE_H
#define LLAMAC_TOOLS_LLAMA_RUN_TEXTFILE_H

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <string>

namespace llamac::tools {

/// The whole of `path` (`/dev/stdin` too); an empty file is an empty text.
/// Errors name the path and `what` ("prompt", "text"): unreadable (missing,
/// a directory, an I/O error) or over 64 MiB, which is a mistake (a model
/// file given as the prompt), not text to tokenize.
absl::StatusOr<std::string> readTextFile(const std::string &path, absl::string_view what);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_TEXTFILE_H
