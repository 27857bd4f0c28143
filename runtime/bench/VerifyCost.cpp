//===- VerifyCost.cpp - a verify pass against one decode step -------------===//

#include "runtime/bench/VerifyCost.h"

#include "absl/strings/str_cat.h"

#include <chrono>

namespace llamac::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// Mean milliseconds of `calls` runs of `tokens` at the prompt's end,
/// through verify (more than one token) or decode (one).
absl::StatusOr<double> timeCalls(Session &session, int64_t position,
                                 const std::vector<int32_t> &tokens,
                                 int calls) {
  double total = 0;
  for (int i = 0; i < calls; ++i) {
    if (absl::Status s = session.truncate(position); !s.ok())
      return s;
    Clock::time_point start = Clock::now();
    absl::StatusOr<std::vector<float>> rows = session.verify(tokens);
    if (!rows.ok())
      return rows.status();
    total += std::chrono::duration<double, std::milli>(Clock::now() - start)
                 .count();
  }
  return total / calls;
}

} // namespace

absl::StatusOr<VerifyCost> measureVerifyCost(Session &session,
                                             const std::vector<int32_t> &prompt,
                                             int64_t tokens, int repeats,
                                             int callsPerSample) {
  if (tokens < 2 || tokens > session.maxVerifyTokens())
    return absl::InvalidArgumentError(absl::StrCat(
        "verify takes 2 to ", session.maxVerifyTokens(), " tokens, not ",
        tokens));
  if (repeats < 1 || callsPerSample < 1)
    return absl::InvalidArgumentError("at least one timed call is needed");
  VerifyCost cost;
  cost.tokens = tokens;
  cost.position = static_cast<int64_t>(prompt.size());
  if (cost.position + tokens > session.maxSeqLen())
    return absl::InvalidArgumentError(
        absl::StrCat("a verify pass of ", tokens, " tokens after ",
                     cost.position, " does not fit the session's ",
                     session.maxSeqLen(), " positions"));
  if (absl::Status s = session.truncate(0); !s.ok())
    return s;
  if (absl::StatusOr<std::vector<float>> r = session.append(prompt); !r.ok())
    return r.status();
  // Any tokens do: the cost does not depend on their values.
  std::vector<int32_t> batch;
  while (static_cast<int64_t>(batch.size()) < tokens)
    batch.push_back(prompt[batch.size() % prompt.size()]);
  const std::vector<int32_t> one = {prompt.back()};
  std::vector<double> verifyMs, stepMs;
  for (int run = 0; run <= repeats; ++run) {
    absl::StatusOr<double> v = timeCalls(session, cost.position, batch, callsPerSample);
    if (!v.ok())
      return v.status();
    absl::StatusOr<double> d = timeCalls(session, cost.position, one, callsPerSample);
    if (!d.ok())
      return d.status();
    if (run == 0)
      continue; // warm-up
    verifyMs.push_back(*v);
    stepMs.push_back(*d);
  }
  if (absl::Status s = session.truncate(cost.position); !s.ok())
    return s;
  cost.verifyMs = summarize(verifyMs);
  cost.decodeStepMs = summarize(stepMs);
  if (cost.decodeStepMs.median > 0)
    cost.ratio = cost.verifyMs.median / cost.decodeStepMs.median;
  return cost;
}

} // namespace llamac::bench
