//===- TextFile.cpp - a prompt or text the user names by path -------------===//

#include "tools/llama-run/TextFile.h"

#include "tools/common/ToolErrors.h"

#include "absl/strings/str_cat.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace llamac::tools {

namespace {

constexpr std::streamsize kMaxTextBytes = 64 << 20;

/// Why standard input is refused (refuseStandardInput); empty: it is not.
std::string &standardInputRefusal() {
  static std::string why;
  return why;
}

/// "<path>: cannot read the <what>", with the system's reason when it
/// gave one.
absl::Status unreadable(const std::string &path, absl::string_view what) {
  int error = errno;
  return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read the ", what,
                                                 error ? ": " : "",
                                                 error ? std::strerror(error) : ""));
}

/// Whether readTextFile reads `path` from standard input.
bool namesStandardInput(const std::string &path) {
  return path == "-" || path == "/dev/stdin" || path == "/dev/fd/0" || path == "/proc/self/fd/0";
}

} // namespace

void refuseStandardInput(std::string why) { standardInputRefusal() = std::move(why); }

absl::StatusOr<std::string> readTextFile(const std::string &path, absl::string_view what) {
  if (namesStandardInput(path)) {
    absl::string_view name = path == "-" ? absl::string_view("standard input") : path;
    if (!standardInputRefusal().empty())
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": cannot read the ", what, ": ", standardInputRefusal()));
    // A closed stdin is held on /dev/null (ToolErrors.h), which reopening
    // it by name would read as an empty text.
    if (standardInputWasClosed())
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": cannot read the ", what, ": standard input is closed"));
  }
  errno = 0;
  std::ifstream in(path == "-" ? "/dev/stdin" : path, std::ios::binary);
  if (!in)
    return unreadable(path, what);
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (static_cast<std::streamsize>(text.size()) > kMaxTextBytes)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the ", what, " is larger than ", kMaxTextBytes >> 20, " MiB"));
  }
  // A read error (EISDIR for a directory) sets badbit; the end of the
  // file only eofbit and failbit.
  if (in.bad())
    return unreadable(path, what);
  return text;
}

} // namespace llamac::tools
