//===- Session.h - one sequence run by a model ------------------*- C++ -*-===//
//
// A Session is the mutable half of the embedding API (Model.h has the
// immutable half): a KV cache, the position up to which it holds the
// sequence, and the model's entry points bound to that cache and to
// activation buffers of their own. Tokens are appended, logits come back;
// `truncate` moves the position back, which is free with a static cache
// (design decision 4: rows at and past the position are simply overwritten
// by the next append, and nothing ever reads past the position).
//
//   auto model = llamac::Model::load("stories15M.llamac");
//   auto session = llamac::Session::create(*model);
//   auto logits = (*session)->append({1, 403, 407});   // [vocab]
//   (*session)->truncate(1);                           // keep BOS only
//   auto rows = (*session)->append({9, 10}, llamac::LogitsRows::All);
//
// Threads: a session is used by one thread at a time. Sessions of one model,
// or of models sharing a device, may run on different threads at once: the
// device serializes their runs (hal::Device's contract), so they take turns
// on it rather than running side by side.
//
// Errors are values: bad input (no tokens, an id outside the vocabulary, a
// position outside [0, position()], more tokens than the session holds)
// gives an error Status and leaves the session as it was.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_SESSION_H
#define LLAMAC_RUNTIME_API_SESSION_H

#include "runtime/api/Generation.h"
#include "runtime/api/Model.h"
#include "runtime/artifact/ArtifactSchema.h"
#include "runtime/hal/Program.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace llamac {

namespace runtime {
class BoundEntryPoint;
} // namespace runtime

/// Told before a kernel launch (Session::observeDispatches): the entry
/// point, the artifact's dispatch, the bound one (argument i holds binding
/// i's address), the layer and the call's position and rows.
using DispatchObserver =
    std::function<void(const runtime::EntryPoint &, const runtime::Dispatch &,
                       const hal::BoundDispatch &, int64_t layer, const hal::Invocation &)>;

struct SessionOptions {
  /// Positions the session holds (prompt + generated); 0 = the model's
  /// maxSeqLen(). At most the artifact's model.max_seq_len. The KV cache is
  /// allocated for this many positions (at least one prefill chunk).
  int64_t maxSeqLen = 0;
};

/// Which logits `Session::append` returns.
enum class LogitsRows {
  Last, ///< [vocab]: the next-token logits after the last appended token
  All,  ///< [tokens, vocab] row-major: row i follows tokens[0..i]
};

class Session {
public:
  /// A new, empty session of `model` (position 0): allocates its KV cache
  /// and activation buffers on the model's device and binds the entry
  /// points to them.
  static absl::StatusOr<std::unique_ptr<Session>>
  create(std::shared_ptr<const Model> model,
         const SessionOptions &options = {});
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// Runs `tokens` at positions position() .. position() + n - 1 (prefill
  /// chunks, or the decode graph for a single token), writes them to the
  /// KV cache and advances position() by n. Returns the logits `rows` asks
  /// for. Feeding a sequence one token at a time gives the logits of
  /// feeding it at once (to rounding: prefill and decode are different
  /// kernels). Errors leave position() unchanged.
  absl::StatusOr<std::vector<float>> append(absl::Span<const int32_t> tokens,
                                            LogitsRows rows = LogitsRows::Last);

  /// Runs 1 .. maxVerifyTokens() tokens at position() in one pass of the
  /// artifact's verify entry point and advances position() by n, like
  /// `append`. Returns every row, [n, vocab]: row i equals, bit for bit, the
  /// logits that feeding tokens[i] alone through the decode step would give
  /// after tokens[0..i). Speculative decoding scores its drafts with it, so
  /// that greedy speculation picks exactly the tokens greedy decoding does.
  /// One token, or tokens too close to the end of the cache for the entry
  /// point's padded pass, go through decode itself. Errors leave
  /// position() unchanged.
  absl::StatusOr<std::vector<float>> verify(absl::Span<const int32_t> tokens);
  /// The most tokens `verify` takes: the artifact's verify entry point's
  /// (`llamac compile --speculate-k K` gives K + 1), or 1 without one.
  int64_t maxVerifyTokens() const;

  /// Tokens the KV cache holds: the next append runs at this position.
  int64_t position() const;
  /// The most tokens this session holds.
  int64_t maxSeqLen() const;
  /// Bytes of this session's KV cache (K and V).
  uint64_t kvCacheBytes() const;
  /// Bytes of K and V that attention reads when the cache holds `live`
  /// positions (what a decode step at position live - 1 reads); `live` is
  /// clamped to [0, maxSeqLen()], and to the model's sliding window.
  uint64_t kvBytesRead(int64_t live) const;

  /// Forgets the tokens at and after `position` (0 <= position <=
  /// position()): the next append continues from there. Nothing is copied
  /// or cleared, so rolling back (speculative decoding, a shared prefix)
  /// costs nothing. A sliding-window model's ring cache (fewer slots than
  /// maxSeqLen()) refuses, with OutOfRange, a position more than
  /// maxRollback() before the end of the furthest write (the position
  /// after the last one written): the keys its window needs are
  /// overwritten. 0 is always allowed.
  absl::Status truncate(int64_t position);
  /// How far before the end of the furthest write `truncate` may go:
  /// maxSeqLen() for a cache that holds every position, else the ring's
  /// slots - window + 1 (at least the longest call the artifact makes).
  int64_t maxRollback() const;

  /// Starts a new sequence: `prompt` (encoded with BOS, unless the artifact's
  /// tokenizer.prompt_without_bos) at position 0, then
  /// sampled tokens until an end-of-sequence token, `maxNewTokens`, the
  /// session's maxSeqLen() or the callback stops it. On return the session
  /// holds the prompt and the generated tokens that were fed back to the
  /// model: all of them after an end-of-sequence, all but the last
  /// otherwise (append it to continue).
  absl::StatusOr<GenerateResult> generate(std::string_view prompt,
                                          const GenerateOptions &options,
                                          const TokenCallback &callback = {});
  /// The same from a prompt already tokenized (with BOS if it wants one).
  absl::StatusOr<GenerateResult> generate(absl::Span<const int> promptTokens,
                                          const GenerateOptions &options,
                                          const TokenCallback &callback = {});

  /// Continues the sequence the session holds: appends `tokens` at
  /// position() (a conversation's new turn) and then samples as generate
  /// does, stopping also on options.stopTokens. Nothing before position()
  /// is run again: the stats' prefillTokens counts `tokens` only. On return
  /// the session holds as after generate. Errors (no tokens, an id outside
  /// the vocabulary, more tokens than positions left) leave it as it was.
  absl::StatusOr<GenerateResult> continueWith(absl::Span<const int> tokens,
                                              const GenerateOptions &options,
                                              const TokenCallback &callback = {});

  const Model &model() const;

  /// Calls `observer` before every kernel launch of every entry point, with
  /// the artifact's dispatch, the bound one (argument i holds binding i's
  /// address), the layer and the call's rows: for compile-time tools that
  /// read the activations a kernel consumes (llamac's GPTQ calibration,
  /// docs/quantization.md). CPU devices only (the addresses are host
  /// memory); an empty observer removes it. The observer runs inside the
  /// device's run: running a session of any model on the same device from
  /// it fails (FailedPrecondition) instead of waiting on itself.
  absl::Status observeDispatches(DispatchObserver observer);

private:
  struct State;
  explicit Session(std::unique_ptr<State> state);
  /// Runs `ids` at position() and advances it; returns the last row's
  /// logits, valid until the next run. With `allRows`, also copies every
  /// row there.
  absl::StatusOr<const float *> run(absl::Span<const int32_t> ids,
                                    std::vector<float> *allRows);
  /// The chunk entry point that returns every row, bound on first use
  /// where the artifact also has a last-row chunk; null: prefill with decode.
  absl::StatusOr<runtime::BoundEntryPoint *> allRowsChunk();
  /// Checks that `n` tokens (ids) can be appended at position().
  /// `operation` ("append", "verify") names the call in its errors.
  absl::Status checkAppend(absl::Span<const int32_t> ids,
                           const char *operation = "append") const;
  /// generate's loop after the prompt is tokenized and checked; `start`
  /// is where time to first token counts from. A new sequence starts at
  /// position 0; otherwise the prompt is appended at position().
  absl::StatusOr<GenerateResult> generateFrom(absl::Span<const int> promptTokens,
                                              const GenerateOptions &options,
                                              const TokenCallback &callback,
                                              std::chrono::steady_clock::time_point start,
                                              bool newSequence = true);
  /// How long `create` took (generate reports it as part of loading).
  double createMs() const;
  std::unique_ptr<State> state;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_API_SESSION_H
