//===- TokenizeCommand.cpp - `llama-run tokenize` -------------------------===//

#include "tools/llama-run/TokenizeCommand.h"

#include "runtime/api/ArtifactTokenizer.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "tools/common/ToolErrors.h"
#include "tools/llama-run/TextFile.h"

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
    "usage: llama-run tokenize <artifact> --text S | --text-file F "
    "[--allow-special | --continuation] [--json] | --ids 1,2,3 [--json]\n"
    "  --continuation  encode the text as the continuation of a text already\n"
    "                  encoded (sentencepiece adds no dummy-prefix space), as\n"
    "                  --chat encodes later turns of the plain template";

bool writeOut(std::string_view text) {
  return writeStandardOutput(text, /*flush=*/false);
}

std::string jsonLine(const nlohmann::json &value) {
  // Token texts may be part of a UTF-8 character: replace, never abort.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

} // namespace

int runTokenizeCommand(const std::vector<std::string> &args) {
  std::string artifactPath;
  std::optional<std::string> text, ids;
  bool allowSpecial = false, continuation = false, json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg == "--help" || arg == "-h") {
      writeOut(absl::StrCat(kUsage, "\n"));
      return 0;
    }
    // One source: a second --text or --text-file would silently replace
    // the first.
    if ((arg == "--text" || arg == "--text-file") && text)
      return fail(2, "give one text: --text S or --text-file F, once");
    if (arg == "--ids" && ids)
      return fail(2, "give --ids once");
    if (arg == "--text" || arg == "--ids") {
      if (i + 1 >= args.size())
        return fail(2, arg + " needs a value");
      (arg == "--text" ? text : ids) = args[++i];
    } else if (arg == "--text-file") {
      if (i + 1 >= args.size())
        return fail(2, arg + " needs a value");
      absl::StatusOr<std::string> read = readTextFile(args[++i], "text");
      if (!read.ok())
        return fail(1, read.status().message());
      text = std::move(*read);
    } else if (arg == "--allow-special") {
      allowSpecial = true;
    } else if (arg == "--continuation") {
      continuation = true;
    } else if (arg == "--json") {
      json = true;
    } else if (arg.rfind("--", 0) == 0) {
      return fail(2, "unknown tokenize flag '" + arg + "'");
    } else if (artifactPath.empty()) {
      artifactPath = arg;
    } else {
      return fail(2, "unexpected argument '" + arg + "'");
    }
  }
  if (artifactPath.empty() || text.has_value() == ids.has_value())
    return fail(2, absl::StrCat("give an artifact and one of --text, "
                                "--text-file, --ids (",
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
    std::vector<int> encoded = continuation ? t.encodeContinuation(*text)
                                            : t.encode(*text, /*addBos=*/false, allowSpecial);
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
    if (!absl::SimpleAtoi(field, &id))
      return fail(2, absl::StrCat("--ids: '", field,
                                  "' is not a token id (give 1,2,3)"));
    if (id < 0 || id >= t.vocabSize())
      return fail(1, absl::StrCat("--ids: token id ", id,
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
