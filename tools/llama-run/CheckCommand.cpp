//===- CheckCommand.cpp - `llama-run check` -------------------------------===//

#include "tools/llama-run/CheckCommand.h"
#include "runtime/api/ArtifactTokenizer.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactCheck.h"
#include "runtime/chat/ChatTemplate.h"
#include "runtime/hal/drivers/cpu/CpuInfo.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "tools/common/ToolErrors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <cstdio>

namespace llamac::tools {

namespace {

constexpr const char *kUsage =
    R"(usage: llama-run check <artifact> [--quiet]

Verifies every checksum of an artifact (header, metadata, tokenizer, kernels
and each weight tensor) and every dispatch of its schedule against the
arguments each kernel takes (cpu: as its kernel library says; nvvm, rocdl:
as the metadata's kernel_signatures record);
loads its tokenizer (its size must be the model's vocabulary) and the chat
template it names. Nothing is run. Progress goes to stderr (--quiet: none); exit status 0 when
the artifact is intact, 1 when it is not. An intact CPU artifact that needs
features this CPU lacks gets a warning (it runs elsewhere).
)";

/// What running needs beyond intact bytes: a tokenizer of the kind the
/// metadata says, as large as the model's vocabulary, and a chat template
/// that exists and has the special tokens it needs.
absl::Status checkTokenizerAndChatTemplate(const runtime::Artifact &artifact,
                                           const std::string &path) {
  const runtime::ArtifactMetadata &meta = artifact.metadata();
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      runtime::loadArtifactTokenizer(artifact, path);
  if (!tokenizer.ok())
    return tokenizer.status();
  if (!meta.chatTemplate.empty())
    if (absl::StatusOr<std::unique_ptr<ChatTemplate>> chat =
            ChatTemplate::create(meta.chatTemplate, **tokenizer,
                                 /*tokenizerAddsBos=*/!meta.promptWithoutBos);
        !chat.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": chat template: ", chat.status().message()));
  return absl::OkStatus();
}

} // namespace

int runCheckCommand(const std::vector<std::string> &args) {
  std::string artifact;
  bool quiet = false;
  for (const std::string &arg : args) {
    if (arg == "--help") {
      writeStandardOutput(kUsage);
      return finishStandardOutput(0);
    }
    if (arg == "--quiet")
      quiet = true;
    else if (arg.rfind("--quiet=", 0) == 0 || arg.rfind("--help=", 0) == 0)
      return fail(2, absl::StrCat(arg.substr(0, arg.find('=')), " takes no value"));
    else if (arg.size() > 1 && arg[0] == '-')
      return fail(2, absl::StrFormat("unknown option '%s' (see llama-run "
                                     "check --help)",
                                     arg));
    else if (!artifact.empty())
      return fail(2, "llama-run check takes one artifact");
    else
      artifact = arg;
  }
  if (artifact.empty())
    return fail(2, "no artifact given (usage: llama-run check <artifact>)");

  // A line per tenth of the weights: enough to see it move on a 15 GB
  // model, few enough for a log.
  int reported = -1;
  auto progress = [&](uint64_t done, uint64_t total) {
    int tenth = total == 0 ? 10 : static_cast<int>(done * 10 / total);
    if (quiet || tenth == reported)
      return;
    reported = tenth;
    std::fprintf(stderr, "check: weights %d%% (%.1f of %.1f MB)\n", tenth * 10,
                 done / 1e6, total / 1e6);
  };
  // Opening checks the header, metadata, tokenizer and kernels' checksums.
  absl::StatusOr<std::unique_ptr<runtime::Artifact>> opened = runtime::Artifact::open(artifact);
  if (!opened.ok())
    return fail(1, opened.status().message());
  absl::StatusOr<runtime::ArtifactCheckReport> report =
      runtime::checkArtifact(**opened, artifact, progress);
  if (!report.ok())
    return fail(1, report.status().message());
  if (absl::Status s = checkTokenizerAndChatTemplate(**opened, artifact); !s.ok())
    return fail(1, s.message());
  std::string kernels =
      report->kernelsChecked > 0
          ? absl::StrFormat("%d kernels' signatures", report->kernelsChecked)
          : std::string("no kernel signatures (GPU code object)");
  std::string line = absl::StrFormat(
      "%s: ok: header, metadata, tokenizer, kernels, %d weights (%d bytes) "
      "match their checksums; schedule checked against %s; tokenizer and chat "
      "template load\n",
      artifact, report->weights, report->weightBytes, kernels);
  writeStandardOutput(line);
  // Intact, but every run here would refuse it: said, as `check` is often
  // the first thing run on a copied artifact.
  if ((*opened)->target().name == "cpu")
    if (absl::Status runs = hal::cpu::checkCpuFeatures(artifact, (*opened)->target().cpuFeatures);
        !runs.ok())
      std::fprintf(stderr, "warning: %s, so it does not run here\n",
                   std::string(runs.message()).c_str());
  return finishStandardOutput(0);
}

} // namespace llamac::tools
