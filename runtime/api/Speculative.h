//===- Speculative.h - speculative decoding over a session ------*- C++ -*-===//
//
// Speculative decoding (docs/runtime-api.md): each round, a draft proposes k
// tokens, the target scores the token before them and all k in one verify
// pass (the artifact's `verify` entry point, whose rows equal decode's bit
// for bit), and exact acceptance keeps a prefix of the drafts plus one token
// of the target's own, so that the output follows the target's distribution
// exactly — token for token plain greedy decoding's at temperature 0. The
// target and the draft roll back to what was accepted with
// Session::truncate, which a static KV cache makes free.
//
// Draft sources:
//  - a draft model: any model with the target's tokenizer (a smaller one, or
//    the target itself compiled otherwise), loaded on the target's device
//    (ModelOptions::sharedDevice) so that both share one thread pool;
//  - prompt lookup: the continuation of the latest earlier occurrence of the
//    sequence's last few tokens in the prompt and generated text; no model.
//
//   auto target = llamac::Model::load("stories110M.llamac");
//   auto session = llamac::Session::create(*target);
//   llamac::ModelOptions draftOptions;
//   draftOptions.sharedDevice = (*target)->sharedDevice();
//   llamac::SpeculativeOptions spec;
//   spec.draft = *llamac::Model::load("stories15M.llamac", draftOptions);
//   auto decoder = llamac::SpeculativeDecoder::create(**session, spec);
//   auto result = (*decoder)->generate("Once upon a time", {});
//   // result->stats.speculative: proposed, accepted, target passes, ...
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_SPECULATIVE_H
#define LLAMAC_RUNTIME_API_SPECULATIVE_H

#include "runtime/api/Generation.h"
#include "runtime/api/Model.h"
#include "runtime/api/Session.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

namespace llamac {

struct SpeculativeOptions {
  /// The draft model; null for prompt lookup.
  std::shared_ptr<const Model> draft;
  /// Draft by prompt lookup instead of a model (not with `draft`).
  bool promptLookup = false;
  /// Prompt lookup: the longest suffix of the sequence looked up (then
  /// shorter ones, down to one token).
  int64_t ngram = 3;
  /// Draft tokens per round: 1 .. what the target's verify entry point
  /// scores (`llamac compile --speculate-k`); 0 = all of those, or as many
  /// as a draft's ring KV cache can roll back (Session::maxRollback() + 1).
  int64_t k = 0;
};

class SpeculativeDecoder {
public:
  /// Checks `options` against `target`'s model — a verify entry point for
  /// k drafts; one draft source; a draft model with the target's vocabulary
  /// and tokenizer, on the target's device, compiled for at least the
  /// session's length — and creates the draft model's session. `target`
  /// must outlive the decoder, which runs it.
  static absl::StatusOr<std::unique_ptr<SpeculativeDecoder>>
  create(Session &target, const SpeculativeOptions &options);
  ~SpeculativeDecoder();
  SpeculativeDecoder(const SpeculativeDecoder &) = delete;
  SpeculativeDecoder &operator=(const SpeculativeDecoder &) = delete;

  /// Session::generate with speculation, the same options and the same
  /// result at temperature 0, token for token (stop reason included); at
  /// temperature > 0 the tokens follow the same distribution from other
  /// random draws (a seed still reproduces its text).
  /// `result.stats.speculative` says what the drafts did. On return the
  /// target session holds what Session::generate leaves: the prompt and
  /// the generated tokens, less the last one unless generation stopped on
  /// an end-of-sequence or stop token (none of a round's drafts past the
  /// last token taken); the draft session holds at most that.
  absl::StatusOr<GenerateResult> generate(std::string_view prompt,
                                          const GenerateOptions &options,
                                          const TokenCallback &callback = {});
  /// The same from a prompt already tokenized (with BOS if it wants one).
  absl::StatusOr<GenerateResult> generate(absl::Span<const int> promptTokens,
                                          const GenerateOptions &options,
                                          const TokenCallback &callback = {});

  /// Draft tokens per round.
  int64_t k() const;

  /// Prompt lookup: also look up the sequence's last tokens in `reference`,
  /// first (runtime::lookupDrafts): a text the output is expected to repeat.
  /// `llama-run bench --lookup-reference` gives it the plain run's own
  /// tokens, to measure the speed-up at a known acceptance. Empty: none.
  /// An id outside the target's vocabulary is an error (the reference is
  /// then unchanged).
  absl::Status setLookupReference(std::vector<int64_t> reference);

private:
  struct State;
  explicit SpeculativeDecoder(std::unique_ptr<State> state);
  absl::StatusOr<GenerateResult> generateFrom(absl::Span<const int> promptTokens,
                                              const GenerateOptions &options,
                                              const TokenCallback &callback,
                                              std::chrono::steady_clock::time_point start);
  std::unique_ptr<State> state;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_API_SPECULATIVE_H
