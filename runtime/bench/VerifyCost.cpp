//===- VerifyCost.cpp - a verify pass against one decode step -------------===//

#include "runtime/bench/VerifyCost.h"

#include "absl/strings/str_cat.h"

#include <chrono>
#include <ctime>

namespace llamac::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// CPU time of every thread of the process, in milliseconds.
double processCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

struct CallTime {
  double wallMs = 0, cpuMs = 0;
};

/// Mean wall and CPU milliseconds of `calls` runs of `tokens` at the
/// prompt's end, through verify (more than one token) or decode (one).
absl::StatusOr<CallTime> timeCalls(Session &session, int64_t position,
                                   const std::vector<int32_t> &tokens, int calls) {
  CallTime total;
  for (int i = 0; i < calls; ++i) {
    if (absl::Status s = session.truncate(position); !s.ok())
      return s;
    Clock::time_point start = Clock::now();
    double cpuStart = processCpuMs();
    absl::StatusOr<std::vector<float>> rows = session.verify(tokens);
    if (!rows.ok())
      return rows.status();
    total.cpuMs += processCpuMs() - cpuStart;
    total.wallMs += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }
  total.wallMs /= calls;
  total.cpuMs /= calls;
  return total;
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
  std::vector<double> verifyMs, stepMs, verifyCpuMs, stepCpuMs;
  for (int run = 0; run <= repeats; ++run) {
    absl::StatusOr<CallTime> v = timeCalls(session, cost.position, batch, callsPerSample);
    if (!v.ok())
      return v.status();
    absl::StatusOr<CallTime> d = timeCalls(session, cost.position, one, callsPerSample);
    if (!d.ok())
      return d.status();
    if (run == 0)
      continue; // warm-up
    verifyMs.push_back(v->wallMs);
    stepMs.push_back(d->wallMs);
    verifyCpuMs.push_back(v->cpuMs);
    stepCpuMs.push_back(d->cpuMs);
  }
  if (absl::Status s = session.truncate(cost.position); !s.ok())
    return s;
  cost.verifyMs = summarize(verifyMs);
  cost.decodeStepMs = summarize(stepMs);
  if (cost.decodeStepMs.median > 0)
    cost.ratio = cost.verifyMs.median / cost.decodeStepMs.median;
  cost.verifyCpuMs = summarize(verifyCpuMs);
  cost.decodeStepCpuMs = summarize(stepCpuMs);
  if (cost.decodeStepCpuMs.median > 0)
    cost.cpuRatio = cost.verifyCpuMs.median / cost.decodeStepCpuMs.median;
  return cost;
}

} // namespace llamac::bench
