//===- EvalOptions.cpp - the command line of `llama-run eval` -------------===//

#include "tools/llama-run/EvalOptions.h"
#include "tools/llama-run/Flags.h"
#include "tools/llama-run/ModelFlags.h"

#include <limits>

namespace llamac::tools {

std::string evalUsage() {
  return R"(usage: llama-run eval <artifact> --text FILE [options]

Perplexity of a text under a compiled model (docs/eval.md): the text is cut
into documents at lines equal to --separator, each run from position 0 with
BOS and a fresh KV cache, truncated to --ctx tokens; every token after BOS
is predicted once, and PPL = exp(total NLL / predicted tokens). Without
--separator the text is one stream cut into windows of --ctx tokens (BOS and
ctx - 1 tokens of text each).

options:
  --text FILE            the text (UTF-8, at most 64 MiB; `-`: standard
                         input; required)
  --separator TEXT       lines equal to TEXT separate documents (e.g.
                         '<|endoftext|>')
  --max-docs N           only the first N documents (windows without
                         --separator)
  --ctx N                positions per document, BOS included (default and
                         maximum: the artifact's max_seq_len; at least 2)
  --threads N            worker threads on the cpu device (default:
                         physical cores; a GPU ignores it)
  --device D             cpu, cuda or hip (default: the artifact's device)
  --json                 print one JSON object as the last line of stdout
  --quiet                no progress on stderr
  --help                 this text
)";
}

namespace {

absl::Status applyEvalFlag(EvalCommandOptions &o, const std::string &name,
                           const std::string &value) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  absl::StatusOr<bool> shared = applyModelCommandFlag(o, name, value);
  if (!shared.ok() || *shared)
    return shared.status();
  if (name == "--text") {
    if (value.empty())
      return usageError("--text needs a file name");
    o.textPath = value;
  } else if (name == "--separator") {
    if (value.empty())
      return usageError("--separator must not be empty");
    o.eval.separator = value;
  } else if (name == "--max-docs") {
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 1, kMax);
    if (!v.ok())
      return v.status();
    o.eval.maxDocs = *v;
  } else if (name == "--ctx") {
    // Below 2 nothing is predicted: BOS and one token at least.
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 2, kMax);
    if (!v.ok())
      return v.status();
    o.eval.ctx = *v;
  }
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<EvalCommandOptions>
parseEvalOptions(const std::vector<std::string> &args) {
  static const FlagSpec kSpec = {{"--help", "--json", "--quiet"},
                                 {"--text", "--separator", "--max-docs",
                                  "--ctx", "--threads", "--device"}};
  EvalCommandOptions o;
  absl::Status scanned = scanArtifactAndFlags(
      args, kSpec, o.artifact, o.help,
      "llama-run eval <artifact> --text FILE [options]; see llama-run eval --help",
      [&](const std::string &name, const std::string &value) {
        return applyEvalFlag(o, name, value);
      });
  if (!scanned.ok())
    return scanned;
  if (o.help)
    return o;
  if (o.textPath.empty())
    return usageError("no text given: use --text FILE");
  return o;
}

} // namespace llamac::tools
