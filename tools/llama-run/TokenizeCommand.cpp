//===- TokenizeCommand.cpp - `llama-run tokenize` -------------------------===//

#include "tools/llama-run/TokenizeCommand.h"

#include "runtime/api/ArtifactTokenizer.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "tools/common/ToolErrors.h"
#include "tools/llama-run/Flags.h"
#include "tools/llama-run/JsonLine.h"
#include "tools/llama-run/TextFile.h"

#include "absl/algorithm/container.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>

namespace llamac::tools {

namespace {

constexpr char kUsage[] =
    "llama-run tokenize <artifact> --text S | --text-file F "
    "[--allow-special | --continuation] [--json] | --ids 1,2,3 [--json]";

constexpr char kHelp[] =
    "  --text S          encode S with the artifact's tokenizer (no BOS); prints\n"
    "                    the ids, comma-separated\n"
    "  --text-file F     the same for the text of file F (- for standard input)\n"
    "  --ids 1,2,3       decode these ids; prints the text\n"
    "  --allow-special   --text: special tokens written in the text (<|eot_id|>)\n"
    "                    are their ids, not plain text\n"
    "  --continuation    encode the text as the continuation of a text already\n"
    "                    encoded (sentencepiece adds no dummy-prefix space), as\n"
    "                    --chat encodes later turns of the plain template\n"
    "  --json            one JSON line: {\"ids\": [...], \"tokens\": [...]} for a\n"
    "                    text (each token's text, invalid UTF-8 replaced), or\n"
    "                    {\"ids\": [...], \"text\": \"...\"} for --ids\n"
    "Flags take their value as the next argument or after '=' (--text=S).";

bool writeOut(std::string_view text) {
  return writeStandardOutput(text, /*flush=*/false);
}

} // namespace

int runTokenizeCommand(const std::vector<std::string> &args) {
  std::string artifactPath;
  std::optional<std::string> text, textFile, ids;
  bool help = false, allowSpecial = false, continuation = false, json = false;
  static const FlagSpec kSpec{{"--help", "--allow-special", "--continuation", "--json"},
                              {"--text", "--text-file", "--ids"}};
  // -h as well as --help (it printed the help before the shared scanner),
  // but not as a value: `--text -h` encodes "-h".
  std::vector<std::string> scanned = args;
  for (size_t i = 0; i < scanned.size(); ++i) {
    if (scanned[i] == "-h")
      scanned[i] = "--help";
    else if (absl::c_linear_search(kSpec.valueFlags, scanned[i]))
      ++i;
  }
  absl::Status status = scanArtifactAndFlags(
      scanned, kSpec, artifactPath, help, kUsage,
      [&](const std::string &name, const std::string &value) -> absl::Status {
        // One source: a second --text or --text-file would silently
        // replace the first.
        if ((name == "--text" || name == "--text-file") && (text || textFile))
          return usageError("give one text: --text S or --text-file F, once");
        if (name == "--help") {
          help = true;
        } else if (name == "--allow-special") {
          allowSpecial = true;
        } else if (name == "--continuation") {
          continuation = true;
        } else if (name == "--json") {
          json = true;
        } else if (name == "--ids") {
          ids = value;
        } else if (name == "--text") {
          text = value;
        } else {
          textFile = value;
        }
        return absl::OkStatus();
      });
  if (!status.ok())
    return fail(2, status.message());
  if (help) {
    writeOut(absl::StrCat("usage: ", kUsage, "\n", kHelp, "\n"));
    return 0;
  }
  // Read after the scan, so a bad flag later on is reported first.
  if (textFile) {
    absl::StatusOr<std::string> read =
        readTextFile(*textFile, "text");
    if (!read.ok())
      return fail(1, read.status().message());
    text = std::move(*read);
  }
  if (artifactPath.empty() || text.has_value() == ids.has_value())
    return fail(2, absl::StrCat("give an artifact and one of --text, "
                                "--text-file, --ids (usage: ",
                                kUsage, ")"));
  if (ids && (allowSpecial || continuation))
    return fail(2, absl::StrCat(allowSpecial ? "--allow-special" : "--continuation",
                                " applies to --text only"));
  if (allowSpecial && continuation)
    return fail(2, "give --allow-special or --continuation, not both (a continuation "
                   "is text, its specials as text)");

  absl::StatusOr<std::unique_ptr<runtime::Artifact>> artifact =
      runtime::Artifact::open(artifactPath);
  if (!artifact.ok())
    return fail(1, std::string(artifact.status().message()));
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      runtime::loadArtifactTokenizer(**artifact, artifactPath);
  if (!tokenizer.ok())
    return fail(1, tokenizer.status().message());
  const Tokenizer &t = **tokenizer;

  if (text) {
    absl::StatusOr<std::vector<int>> ids = continuation
                                               ? t.encodeContinuation(*text)
                                               : t.encode(*text, /*addBos=*/false, allowSpecial);
    if (!ids.ok())
      return fail(1, ids.status().message());
    const std::vector<int> &encoded = *ids;
    if (json) {
      std::vector<std::string> tokens;
      for (int id : encoded)
        tokens.push_back(t.pieceBytes(id));
      return writeOut(jsonLine({{"ids", encoded}, {"tokens", tokens}})) ? 0
                                                                        : 1;
    }
    return writeOut(absl::StrCat(absl::StrJoin(encoded, ","), "\n")) ? 0 : 1;
  }

  std::vector<int> decoded;
  for (absl::string_view field : absl::StrSplit(*ids, ',')) {
    int id = 0;
    if (!isPlainInteger(field) || !absl::SimpleAtoi(field, &id))
      return fail(2, absl::StrCat("--ids: '", field,
                                  "' is not a token id (give 1,2,3)"));
    if (id < 0 || id >= t.vocabSize())
      return fail(2, absl::StrCat("--ids: token id ", id,
                                  " is outside the vocabulary [0, ",
                                  t.vocabSize(), ")"));
    decoded.push_back(id);
  }
  std::string out = t.decode(decoded);
  if (json)
    return writeOut(jsonLine({{"ids", decoded}, {"text", out}})) ? 0 : 1;
  return writeOut(out + "\n") ? 0 : 1;
}

} // namespace llamac::tools
