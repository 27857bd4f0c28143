//===- Options.cpp - llama-run's command line -----------------------------===//

#include "tools/llama-run/Options.h"
#include "tools/llama-run/Flags.h"
#include "tools/llama-run/ModelFlags.h"
#include "tools/llama-run/TextFile.h"
#include "runtime/chat/ChatTemplate.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include <limits>

namespace llamac::tools {

std::string usage() {
  return R"(usage: llama-run <artifact> --prompt TEXT [options]
       llama-run <artifact> --chat [--system TEXT] [options]
       llama-run bench <artifact> [bench options]  (see llama-run bench --help)
       llama-run check <artifact> [--quiet]
       llama-run eval <artifact> --text FILE [eval options]  (see llama-run eval --help)
       llama-run tokenize <artifact> --text S | --text-file F [--allow-special | --continuation]
                          [--json] | --ids 1,2,3 [--json]  (see llama-run tokenize --help)
       llama-run --version

Generates text with a model compiled by `llamac compile`; `bench` measures
prefill and decode speed and decode's share of the memory bandwidth; `eval`
the perplexity of a text; `check` verifies every checksum of an artifact, the
weights' included, and its schedule against its kernels (exit status 0 when
it is intact); `tokenize` gives the ids of a text or the text of ids.

options:
  --prompt TEXT          text to continue; `-` reads standard input
  --prompt-file F        text to continue, read from file F (`-`: standard
                         input; one of --prompt, --prompt-file and --chat is
                         required)
  --chat                 a conversation: one user turn per line of standard
                         input (a line ending in \ continues on the next),
                         each answer streamed on its own line; ends at end
                         of input (docs/chat.md)
  --system TEXT          --chat: the system prompt
  --chat-template NAME   --chat: llama3, llama2, mistral, chatml, zephyr
                         or plain instead of the template the artifact
                         records
  --max-new-tokens N     stop after N generated tokens (default 256; --chat:
                         per answer)
  --temperature T        0 = greedy (default); > 0 samples
  --top-k K              sample among the K most likely tokens (0 = all)
  --top-p P              nucleus sampling, P in (0, 1] (default 1)
  --min-p P              drop tokens less likely than P times the most
                         likely, P in [0, 1] (default 0: none)
  --seed S               random seed for sampling (default 0)
  --threads N            worker threads on the cpu device, at most 256
                         (default: physical cores; a GPU ignores it)
  --max-seq-len N        cap on prompt + generated tokens; the KV cache is
                         allocated for N positions, at least one prefill
                         chunk (default and maximum: the artifact's
                         max_seq_len)
  --device D             cpu, cuda or hip: where to run (default: the
                         device the artifact was compiled for; cpu
                         artifacts run on cpu, nvvm on cuda, rocdl on hip)
  --json                 print one JSON object as the last line of stdout
                         instead of streaming the text
  --quiet                no statistics on stderr
  --verify               check every weight's checksum before running
                         (the header, metadata, tokenizer and kernels are
                         always checked)
  --help                 this text

speculative decoding (the same text at temperature 0, the same distribution
above it; statistics in stderr's last line and --json's stats.speculative):
)" + std::string(speculationUsage());
}

namespace {

/// Applies one flag's value to `o`; the scanner has checked the name.
absl::Status applyRunFlag(RunOptions &o, const std::string &name,
                          const std::string &value) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  absl::StatusOr<bool> speculative = applySpeculationFlag(o.speculation, name, value);
  if (!speculative.ok() || *speculative)
    return speculative.status();
  absl::StatusOr<bool> shared = applyModelCommandFlag(o, name, value);
  if (!shared.ok() || *shared)
    return shared.status();
  // One prompt: a second --prompt or --prompt-file would silently replace
  // the first.
  if ((name == "--prompt" || name == "--prompt-file") && o.hasPrompt)
    return usageError("give one prompt: --prompt TEXT, --prompt - or --prompt-file F, once");
  if (name == "--verify") {
    o.model.verifyWeights = true;
  } else if (name == "--prompt") {
    if (value == "-") {
      absl::StatusOr<std::string> text = readTextFile("-", "prompt");
      if (!text.ok())
        return text.status();
      o.prompt = std::move(*text);
    } else {
      o.prompt = value;
    }
    o.hasPrompt = true;
  } else if (name == "--prompt-file") {
    absl::StatusOr<std::string> text = readTextFile(value, "prompt");
    if (!text.ok())
      return text.status();
    o.prompt = std::move(*text);
    o.hasPrompt = true;
  } else if (name == "--chat") {
    o.chat = true;
  } else if (name == "--system") {
    o.system = value;
    o.hasSystem = true;
  } else if (name == "--chat-template") {
    if (!isChatTemplateName(value))
      return usageError(absl::StrCat("unknown chat template '", value, "' (known: ",
                                     chatTemplateNameList(), ")"));
    o.chatTemplate = value;
  } else if (name == "--max-new-tokens") {
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 0, kMax);
    if (!v.ok())
      return v.status();
    o.generate.maxNewTokens = *v;
  } else if (name == "--temperature") {
    absl::StatusOr<float> v = parseFloatFlag(name, value);
    if (!v.ok())
      return v.status();
    if (*v < 0)
      return usageError(
          absl::StrCat("--temperature must be >= 0, not ", value));
    o.generate.temperature = *v;
  } else if (name == "--top-k") {
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 0, kMax);
    if (!v.ok())
      return v.status();
    o.generate.topK = *v;
  } else if (name == "--top-p") {
    absl::StatusOr<float> v = parseFloatFlag(name, value);
    if (!v.ok())
      return v.status();
    if (!(*v > 0 && *v <= 1))
      return usageError(absl::StrCat("--top-p must be in (0, 1], not ", value));
    o.generate.topP = *v;
  } else if (name == "--min-p") {
    absl::StatusOr<float> v = parseFloatFlag(name, value);
    if (!v.ok())
      return v.status();
    if (!(*v >= 0 && *v <= 1))
      return usageError(absl::StrCat("--min-p must be in [0, 1], not ", value));
    o.generate.minP = *v;
  } else if (name == "--seed") {
    uint64_t seed;
    if (!isPlainInteger(value) || !absl::SimpleAtoi(value, &seed))
      return usageError(absl::StrCat(
          "--seed expects a non-negative integer, not '", value, "'"));
    o.generate.seed = seed;
  }
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<RunOptions>
parseRunOptions(const std::vector<std::string> &args) {
  static const FlagSpec kSpec = [] {
    FlagSpec spec{{"--help", "--json", "--quiet", "--verify", "--chat"},
                  {"--prompt", "--prompt-file", "--max-new-tokens", "--temperature", "--top-k",
                   "--top-p", "--min-p", "--seed", "--threads", "--max-seq-len", "--device", "--system",
                   "--chat-template"}};
    addSpeculationFlags(spec);
    return spec;
  }();
  RunOptions o;
  absl::Status scanned = scanArtifactAndFlags(
      args, kSpec, o.artifact, o.help, "llama-run <artifact> --prompt TEXT ...; see --help",
      [&](const std::string &name, const std::string &value) {
        if (name == "--top-k" || name == "--top-p" || name == "--min-p" || name == "--seed")
          o.ignoredSamplingFlags.push_back(name);
        return applyRunFlag(o, name, value);
      });
  if (!scanned.ok())
    return scanned;
  if (o.help)
    return o;
  if (o.generate.temperature > 0)
    o.ignoredSamplingFlags.clear();
  if (o.chat) {
    // The turns come from standard input; a prompt would be a second,
    // competing source (a system prompt is --system).
    if (o.hasPrompt)
      return usageError("--chat reads its turns from standard input: give no --prompt or "
                        "--prompt-file (--system sets a system prompt)");
    if (o.speculation.enabled() || o.speculation.ngram || o.speculation.k)
      return usageError("--chat does not speculate: give no --draft, --prompt-lookup, --ngram "
                        "or --speculate-k");
    return o;
  }
  if (o.hasSystem || !o.chatTemplate.empty())
    return usageError("--system and --chat-template need --chat");
  if (!o.hasPrompt)
    return usageError("--prompt, --prompt-file or --chat is required");
  if (absl::Status s = checkSpeculationFlags(o.speculation); !s.ok())
    return s;
  return o;
}

} // namespace llamac::tools
