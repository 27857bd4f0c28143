//===- KernelProfile.h - where a run's time goes, kernel by kernel -*- C++ -*-===//
//
// `llama-run bench --profile`: the wall time of each kernel of a prefill and
// of decode steps, from a dispatch observer (Session::observeDispatches) that
// reads the clock before every launch, so a kernel's time is the time until
// the next launch, or until the call returns for the last one. The CPU
// driver runs one dispatch at a time, each split over the threads, so these
// spans add up to the call; the driver's own work between launches (filling
// argument arrays, copying the token ids) goes to the kernel before it.
// `perf` cannot name the kernels (the library is loaded from a memfd), which
// is why this exists. CPU devices only, like the observer.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_BENCH_KERNELPROFILE_H
#define LLAMAC_RUNTIME_BENCH_KERNELPROFILE_H

#include "runtime/api/Session.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac::bench {

/// One kernel of one entry point, per profiled run.
struct KernelTime {
  std::string entryPoint;
  /// The artifact's kernel name; "all-reduce" or "all-gather" for a
  /// tensor-parallel collective step.
  std::string kernel;
  /// Launches per run (every layer's and every chunk's).
  int64_t calls = 0;
  /// Mean wall time per run.
  double ms = 0;
  /// ms / the run's wall time.
  double share = 0;
};

struct KernelProfile {
  /// "prefill" (one prompt of `tokens` from position 0) or "decode"
  /// (`tokens` greedy steps after a short prompt).
  std::string phase;
  int64_t tokens = 0;
  int runs = 0;
  /// Mean wall time of a run: Session::append of the prompt, or of every step.
  double runMs = 0;
  /// Slowest first; ties by entry point, then kernel.
  std::vector<KernelTime> kernels;
};

/// Profiles `runs` prefills of `prompt` from position 0, after one untimed.
absl::StatusOr<KernelProfile> profilePrefill(Session &session,
                                             const std::vector<int32_t> &prompt, int runs);

/// Profiles `runs` times `steps` greedy decode steps after `prompt` (its
/// prefill untimed), after one untimed run.
absl::StatusOr<KernelProfile> profileDecode(Session &session,
                                            const std::vector<int32_t> &prompt,
                                            int64_t steps, int runs);

} // namespace llamac::bench

#endif // LLAMAC_RUNTIME_BENCH_KERNELPROFILE_H
