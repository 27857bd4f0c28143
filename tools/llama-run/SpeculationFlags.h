//===- SpeculationFlags.h - llama-run's speculative decoding flags -*- C++ -*-===//
//
// --draft, --prompt-lookup, --ngram and --speculate-k, shared by generation
// and `llama-run bench`: parsing, the checks that need no artifact, and
// opening the draft beside the target.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_SPECULATIONFLAGS_H
#define LLAMAC_TOOLS_LLAMA_RUN_SPECULATIONFLAGS_H

#include "runtime/api/Speculative.h"
#include "tools/llama-run/Flags.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llamac::tools {

struct SpeculationFlags {
  std::string draft;               ///< --draft <artifact>
  bool promptLookup = false;       ///< --prompt-lookup
  std::optional<int64_t> ngram;    ///< --ngram N
  std::optional<int64_t> k;        ///< --speculate-k K
  bool enabled() const { return !draft.empty() || promptLookup; }
};

/// Adds the flags' names to a command's `spec`.
void addSpeculationFlags(FlagSpec &spec);

/// Applies `name` if it is one of these flags (true), else leaves it (false).
absl::StatusOr<bool> applySpeculationFlag(SpeculationFlags &flags, const std::string &name,
                                          const std::string &value);

/// What needs no artifact: one draft source at most, --ngram only with
/// --prompt-lookup, --speculate-k only with a draft source.
absl::Status checkSpeculationFlags(const SpeculationFlags &flags);

/// The draft model (loaded on `target`'s device, with `options`' length)
/// and the decoder over `target`; errors say which artifact is at fault.
absl::StatusOr<std::unique_ptr<SpeculativeDecoder>>
openSpeculation(Session &target, const SpeculationFlags &flags, const ModelOptions &options);

/// The usage lines of these flags.
const char *speculationUsage();

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_SPECULATIONFLAGS_H
