//===- KernelProfile.cpp - where a run's time goes, kernel by kernel ------===//

#include "runtime/bench/KernelProfile.h"
#include "runtime/generate/Sampler.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

namespace llamac::bench {

namespace {

using Clock = std::chrono::steady_clock;

double msBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

/// A kernel's name, or the collective a step runs instead.
std::string profileName(const runtime::Dispatch &dispatch) {
  if (!dispatch.collective)
    return dispatch.kernel;
  return *dispatch.collective == runtime::Collective::AllGatherColumns ? "all-gather"
                                                                        : "all-reduce";
}

/// Each launch's span, from the observer's clock reading before it to the
/// next reading (the next launch, or callReturned), summed per scheduled
/// dispatch. Installed for its lifetime.
class DispatchClock {
public:
  explicit DispatchClock(Session &session) : session(session) {}
  ~DispatchClock() { (void)session.observeDispatches(nullptr); }

  absl::Status install() {
    return session.observeDispatches([this](const runtime::EntryPoint &entry,
                                            const runtime::Dispatch &dispatch,
                                            const hal::BoundDispatch &, int64_t,
                                            const hal::Invocation &) {
      Clock::time_point now = Clock::now();
      closeSpan(now);
      if (!recording)
        return;
      open = &spans[{&entry, &dispatch}];
      ++open->calls;
      openedAt = now;
    });
  }

  /// Ends the last launch's span when Session::append returns.
  void callReturned() { closeSpan(Clock::now()); }

  /// Whether launches count (warm-up runs and decode's prompts do not).
  void record(bool on) { recording = on; }

  /// The spans per (entry point, kernel), per run of `runs`.
  std::vector<KernelTime> perRun(int runs, double runMs) const {
    std::map<std::pair<std::string, std::string>, KernelTime> byName;
    for (const auto &[key, span] : spans) {
      const auto &[entry, dispatch] = key;
      std::string kernel = profileName(*dispatch);
      KernelTime &t = byName[{entry->name, kernel}];
      t.entryPoint = entry->name;
      t.kernel = kernel;
      t.calls += span.calls;
      t.ms += span.ms;
    }
    std::vector<KernelTime> kernels;
    for (auto &[name, t] : byName) {
      t.calls /= runs;
      t.ms /= runs;
      t.share = runMs > 0 ? t.ms / runMs : 0;
      kernels.push_back(t);
    }
    std::stable_sort(kernels.begin(), kernels.end(),
                     [](const KernelTime &a, const KernelTime &b) { return a.ms > b.ms; });
    return kernels;
  }

private:
  struct Span {
    int64_t calls = 0;
    double ms = 0;
  };

  void closeSpan(Clock::time_point now) {
    if (open)
      open->ms += msBetween(openedAt, now);
    open = nullptr;
  }

  Session &session;
  std::map<std::pair<const runtime::EntryPoint *, const runtime::Dispatch *>, Span> spans;
  Span *open = nullptr;
  Clock::time_point openedAt;
  bool recording = false;
};

/// Session::append of `tokens`, its wall time added to `*ms` when given.
absl::StatusOr<int32_t> timedAppend(Session &session, DispatchClock &clock,
                                    const std::vector<int32_t> &tokens, double *ms) {
  Clock::time_point start = Clock::now();
  absl::StatusOr<std::vector<float>> logits = session.append(tokens);
  clock.callReturned();
  if (ms)
    *ms += msBetween(start, Clock::now());
  if (!logits.ok())
    return logits.status();
  return static_cast<int32_t>(runtime::argmax(*logits));
}

absl::Status checkRuns(int runs) {
  if (runs < 1)
    return absl::InvalidArgumentError("a kernel profile needs at least one run");
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<KernelProfile> profilePrefill(Session &session,
                                             const std::vector<int32_t> &prompt, int runs) {
  if (absl::Status s = checkRuns(runs); !s.ok())
    return s;
  DispatchClock clock(session);
  if (absl::Status s = clock.install(); !s.ok())
    return s;
  double ms = 0;
  for (int run = 0; run <= runs; ++run) {
    // The first run warms up (page faults, cold caches, lazy binding).
    clock.record(run > 0);
    if (absl::Status s = session.truncate(0); !s.ok())
      return s;
    if (absl::StatusOr<int32_t> next =
            timedAppend(session, clock, prompt, run > 0 ? &ms : nullptr);
        !next.ok())
      return next.status();
  }
  KernelProfile p;
  p.phase = "prefill";
  p.tokens = static_cast<int64_t>(prompt.size());
  p.runs = runs;
  p.runMs = ms / runs;
  p.kernels = clock.perRun(runs, p.runMs);
  return p;
}

absl::StatusOr<KernelProfile> profileDecode(Session &session,
                                            const std::vector<int32_t> &prompt,
                                            int64_t steps, int runs) {
  if (absl::Status s = checkRuns(runs); !s.ok())
    return s;
  if (steps < 1)
    return absl::InvalidArgumentError("a decode profile needs at least one step");
  DispatchClock clock(session);
  if (absl::Status s = clock.install(); !s.ok())
    return s;
  double ms = 0;
  for (int run = 0; run <= runs; ++run) {
    clock.record(false);
    if (absl::Status s = session.truncate(0); !s.ok())
      return s;
    absl::StatusOr<int32_t> next = timedAppend(session, clock, prompt, nullptr);
    if (!next.ok())
      return next.status();
    // Only the steps of the runs after the first count.
    clock.record(run > 0);
    for (int64_t i = 0; i < steps; ++i)
      if (next = timedAppend(session, clock, {*next}, run > 0 ? &ms : nullptr); !next.ok())
        return next.status();
  }
  KernelProfile p;
  p.phase = "decode";
  p.tokens = steps;
  p.runs = runs;
  p.runMs = ms / runs;
  p.kernels = clock.perRun(runs, p.runMs);
  return p;
}

} // namespace llamac::bench
