//===- ChatInput.cpp - reading chat turns from a stream -------------------===//

#include "tools/llama-run/ChatInput.h"

#include "absl/strings/str_cat.h"

namespace llamac::tools {

namespace {

/// One line without its newline; std::nullopt at the end of input.
absl::StatusOr<std::optional<std::string>> readLine(std::FILE *in, size_t budget) {
  std::string line;
  bool any = false;
  for (int c; (c = std::getc(in)) != EOF;) {
    any = true;
    if (c == '\n')
      return std::optional<std::string>(std::move(line));
    if (line.size() >= budget)
      return absl::InvalidArgumentError(
          absl::StrCat("a chat turn is longer than ", kMaxTurnBytes >> 20, " MiB"));
    line.push_back(static_cast<char>(c));
  }
  if (std::ferror(in))
    return absl::InvalidArgumentError("cannot read a chat turn from standard input");
  if (!any)
    return std::optional<std::string>();
  return std::optional<std::string>(std::move(line));
}

} // namespace

absl::StatusOr<std::optional<std::string>> readChatTurn(std::FILE *in) {
  std::string turn;
  for (;;) {
    absl::StatusOr<std::optional<std::string>> line = readLine(in, kMaxTurnBytes - turn.size());
    if (!line.ok())
      return line.status();
    if (!*line) // end of input: what was continued so far is the last turn
      return turn.empty() ? std::optional<std::string>() : std::optional<std::string>(turn);
    std::string &text = **line;
    if (!text.empty() && text.back() == '\r')
      text.pop_back();
    bool continues = !text.empty() && text.back() == '\\';
    if (continues) {
      text.back() = '\n';
      turn += text;
      continue;
    }
    turn += text;
    if (!turn.empty())
      return std::optional<std::string>(std::move(turn));
  }
}

} // namespace llamac::tools
