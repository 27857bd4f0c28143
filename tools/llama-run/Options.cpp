//===- Options.cpp - llama-run's command line -----------------------------===//

#include "tools/llama-run/Options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include <cmath>
#include <limits>

namespace llamac::tools {

std::string usage() {
  return R"(usage: llama-run <artifact> --prompt TEXT [options]

Generates text with a model compiled by `llamac compile`.

options:
  --prompt TEXT          text to continue (required)
  --max-new-tokens N     stop after N generated tokens (default 256)
  --temperature T        0 = greedy (default); > 0 samples
  --top-k K              sample among the K most likely tokens (0 = all)
  --top-p P              nucleus sampling, P in (0, 1] (default 1)
  --seed S               random seed for sampling (default 0)
  --threads N            worker threads (default: physical cores)
  --max-seq-len N        cap on prompt + generated tokens (default and
                         maximum: the artifact's max_seq_len)
  --device cpu           where to run (only cpu in this build)
  --json                 print one JSON object as the last line of stdout
                         instead of streaming the text
  --quiet                no statistics on stderr
  --help                 this text
)";
}

namespace {

absl::Status usageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<int64_t> parseInt(absl::string_view flag, absl::string_view text,
                                 int64_t min, int64_t max) {
  int64_t value;
  if (!absl::SimpleAtoi(text, &value))
    return usageError(
        absl::StrCat(flag, " expects an integer, not '", text, "'"));
  if (value < min || value > max)
    return usageError(
        absl::StrCat(flag, " must be ",
                     max == std::numeric_limits<int64_t>::max()
                         ? absl::StrCat("at least ", min)
                         : absl::StrCat("in [", min, ", ", max, "]"),
                     ", not ", text));
  return value;
}

absl::StatusOr<float> parseFloat(absl::string_view flag,
                                 absl::string_view text) {
  double value;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value))
    return usageError(
        absl::StrCat(flag, " expects a number, not '", text, "'"));
  return static_cast<float>(value);
}

} // namespace

absl::StatusOr<RunOptions>
parseRunOptions(const std::vector<std::string> &args) {
  RunOptions o;
  bool sawArtifact = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0 || arg == "--") {
      if (arg.size() > 1 && arg[0] == '-')
        return usageError(absl::StrCat("unknown flag '", arg, "'"));
      if (sawArtifact)
        return usageError(absl::StrCat("unexpected argument '", arg,
                                       "' (one artifact only)"));
      o.artifact = arg;
      sawArtifact = true;
      continue;
    }
    std::string name = arg;
    std::string value;
    bool hasValue = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasValue = true;
    }
    auto boolFlag = [&](bool &target) -> absl::Status {
      if (hasValue)
        return usageError(absl::StrCat(name, " takes no value"));
      target = true;
      return absl::OkStatus();
    };
    if (name == "--help" || name == "-h") {
      if (absl::Status s = boolFlag(o.help); !s.ok())
        return s;
      continue;
    }
    if (name == "--json") {
      if (absl::Status s = boolFlag(o.json); !s.ok())
        return s;
      continue;
    }
    if (name == "--quiet") {
      if (absl::Status s = boolFlag(o.quiet); !s.ok())
        return s;
      continue;
    }
    static const char *const kValueFlags[] = {
        "--prompt", "--max-new-tokens", "--temperature", "--top-k", "--top-p",
        "--seed",   "--threads",        "--max-seq-len", "--device"};
    bool known = false;
    for (const char *flag : kValueFlags)
      known |= name == flag;
    if (!known)
      return usageError(absl::StrCat("unknown flag '", name, "'"));
    if (!hasValue) {
      if (i + 1 >= args.size())
        return usageError(absl::StrCat(name, " needs a value"));
      value = args[++i];
    }
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    if (name == "--prompt") {
      o.prompt = value;
      o.hasPrompt = true;
    } else if (name == "--max-new-tokens") {
      absl::StatusOr<int64_t> v = parseInt(name, value, 0, kMax);
      if (!v.ok())
        return v.status();
      o.generate.maxNewTokens = *v;
    } else if (name == "--temperature") {
      absl::StatusOr<float> v = parseFloat(name, value);
      if (!v.ok())
        return v.status();
      if (*v < 0)
        return usageError(
            absl::StrCat("--temperature must be >= 0, not ", value));
      o.generate.temperature = *v;
    } else if (name == "--top-k") {
      absl::StatusOr<int64_t> v = parseInt(name, value, 0, kMax);
      if (!v.ok())
        return v.status();
      o.generate.topK = *v;
    } else if (name == "--top-p") {
      absl::StatusOr<float> v = parseFloat(name, value);
      if (!v.ok())
        return v.status();
      if (!(*v > 0 && *v <= 1))
        return usageError(
            absl::StrCat("--top-p must be in (0, 1], not ", value));
      o.generate.topP = *v;
    } else if (name == "--seed") {
      uint64_t seed;
      if (!absl::SimpleAtoi(value, &seed))
        return usageError(absl::StrCat(
            "--seed expects a non-negative integer, not '", value, "'"));
      o.generate.seed = seed;
    } else if (name == "--threads") {
      absl::StatusOr<int64_t> v = parseInt(name, value, 1, 1024);
      if (!v.ok())
        return v.status();
      o.model.threads = static_cast<int>(*v);
    } else if (name == "--max-seq-len") {
      absl::StatusOr<int64_t> v = parseInt(name, value, 1, kMax);
      if (!v.ok())
        return v.status();
      o.model.maxSeqLen = *v;
    } else if (name == "--device") {
      if (value == "cuda" || value == "hip")
        return usageError(absl::StrCat("--device ", value,
                                       " is not available in this build"));
      if (value != "cpu")
        return usageError(absl::StrCat("unknown --device '", value,
                                       "' (expected cpu, cuda or hip)"));
      o.model.device = value;
    }
  }
  if (o.help)
    return o;
  if (!sawArtifact)
    return usageError("no artifact given (usage: llama-run <artifact> "
                      "--prompt TEXT ...; see --help)");
  if (!o.hasPrompt)
    return usageError("--prompt is required");
  return o;
}

} // namespace llamac::tools
