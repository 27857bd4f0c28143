//===- SpeculationFlags.cpp - llama-run's speculative decoding flags ------===//

#include "tools/llama-run/SpeculationFlags.h"
#include "runtime/comm/Communicator.h"
#include "tools/llama-run/Flags.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace llamac::tools {

void addSpeculationFlags(FlagSpec &spec) {
  spec.boolFlags.push_back("--prompt-lookup");
  for (const char *name : {"--draft", "--ngram", "--speculate-k"})
    spec.valueFlags.push_back(name);
}

absl::StatusOr<bool> applySpeculationFlag(SpeculationFlags &flags, const std::string &name,
                                          const std::string &value) {
  if (name == "--prompt-lookup") {
    flags.promptLookup = true;
  } else if (name == "--draft") {
    if (value.empty())
      return usageError("--draft needs an artifact");
    flags.draft = value;
  } else if (name == "--ngram") {
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 1, 1 << 16);
    if (!v.ok())
      return v.status();
    flags.ngram = *v;
  } else if (name == "--speculate-k") {
    int64_t k;
    if (isPlainInteger(value) && absl::SimpleAtoi(value, &k) && k <= 0)
      return usageError(absl::StrCat(
          "--speculate-k must be at least 1, not ", value,
          " (to decode without speculation, leave out --draft and --prompt-lookup)"));
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 1, 1 << 20);
    if (!v.ok())
      return v.status();
    flags.k = *v;
  } else {
    return false;
  }
  return true;
}

absl::Status checkSpeculationFlags(const SpeculationFlags &flags) {
  if (!flags.draft.empty() && flags.promptLookup)
    return usageError("--draft and --prompt-lookup cannot be used together: choose one "
                      "draft source");
  if (flags.ngram && !flags.promptLookup)
    return usageError("--ngram applies to --prompt-lookup only");
  if (flags.k && !flags.enabled())
    return usageError("--speculate-k needs a draft source: --draft <artifact> or "
                      "--prompt-lookup");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SpeculativeDecoder>>
openSpeculation(Session &target, const SpeculationFlags &flags, const ModelOptions &options) {
  SpeculativeOptions spec;
  spec.promptLookup = flags.promptLookup;
  if (flags.ngram)
    spec.ngram = *flags.ngram;
  if (flags.k)
    spec.k = *flags.k;
  if (!flags.draft.empty()) {
    ModelOptions draftOptions = options;
    draftOptions.sharedDevice = target.model().sharedDevice();
    // Under tensor parallelism a (small, single-process) draft runs whole
    // on every rank: each proposes the same tokens.
    if (draftOptions.communicator && draftOptions.communicator->size() > 1)
      draftOptions.communicator = nullptr;
    // So a split draft is an error of its own: the load's advice (launch
    // one process per rank) would be wrong under mpirun too.
    draftOptions.singleProcessReason = "a draft runs whole in every process";
    absl::StatusOr<std::shared_ptr<const Model>> draft = Model::load(flags.draft, draftOptions);
    if (!draft.ok())
      return absl::Status(draft.status().code(),
                          absl::StrCat("--draft: ", draft.status().message()));
    spec.draft = *draft;
  }
  return SpeculativeDecoder::create(target, spec);
}

const char *speculationUsage() {
  return R"(  --draft ART            speculative decoding with the draft model ART (same
                         tokenizer; run on the same device)
  --prompt-lookup        speculative decoding with drafts looked up in the
                         prompt and generated text (no draft model)
  --ngram N              prompt lookup: match the last N tokens, then fewer
                         (default 3)
  --speculate-k K        draft tokens per round, 1 .. the K the artifact was
                         compiled with (llamac compile --speculate-k; default
                         all of them, or fewer for a draft whose ring KV
                         cache keeps fewer positions to roll back over)
)";
}

} // namespace llamac::tools
