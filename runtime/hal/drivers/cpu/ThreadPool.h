//===- ThreadPool.h - workers for ranged dispatches -------------*- C++ -*-===//
//
// A fixed set of threads that run the chunks of one dispatch at a time. A
// decode token is ~110 dispatches of 0.1-0.5 ms each, and waking a sleeping
// thread for each (a futex and, in a VM, an interrupt to a halted vCPU) cost
// a fifth of int8 TinyLlama's token on 2 threads. So an idle worker, and the
// caller waiting for the workers, poll (with `pause`) before they sleep on a
// condition variable, for an adaptive time (SpinBudget): long while polls
// succeed, as between the dispatches of a token on a quiet machine, and
// short once they fail, as when other processes hold the cores (spinning
// without bound cut decode 2.5x on a loaded machine).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <vector>

namespace llamac::hal::cpu {

/// A contiguous piece of [0, range).
struct Chunk {
  int64_t begin;
  int64_t end;
};

/// Splits [0, range) into at most `parts` contiguous, non-empty chunks in
/// order. Boundaries are multiples of 16 when every part still gets at least
/// 16 items, so that neighbouring threads do not write the same cache line.
std::vector<Chunk> splitRange(int64_t range, int parts);

class ThreadPool {
public:
  /// `threads` is the total parallelism, the calling thread included: a pool
  /// of 1 has no workers and runs everything inline. Fails, with the
  /// system's reason, when a worker cannot be started (`ulimit -u`, no
  /// memory for its stack); the workers already started are stopped.
  static absl::StatusOr<std::unique_ptr<ThreadPool>> create(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return static_cast<int>(workers.size()) + 1; }

  /// Runs `task(i)` for every i in [0, n), n <= size(): task 0 on the
  /// calling thread, task i on worker i. Returns when all have finished.
  void run(int n, absl::FunctionRef<void(int)> task);

  /// Runs `body(begin, end)` over `splitRange(range, size())` in parallel.
  void parallelFor(int64_t range,
                   absl::FunctionRef<void(int64_t, int64_t)> body);

private:
  ThreadPool() = default;
  /// What a worker's pthread starts with.
  struct Worker {
    ThreadPool *pool;
    int id;
    pthread_t thread;
  };
  static void *startWorker(void *worker);
  void workerLoop(int id);
  /// How long one waiting thread polls before it sleeps: doubled after a
  /// poll that saw its condition, halved after one that did not, within
  /// [kMin, kMax]. kMax is longer than the gap between the dispatches of a
  /// token and far shorter than a time slice.
  struct SpinBudget {
    static constexpr int64_t kMinNanos = 1'000;
    static constexpr int64_t kMaxNanos = 50'000;
    int64_t nanos = kMaxNanos;
  };
  /// Polls `ready` for up to `budget`; true as soon as it holds.
  template <typename Ready> static bool spinUntil(SpinBudget &budget, Ready ready);

  /// pthreads, not std::thread: creating one reports failure as a value,
  /// where std::thread throws (and the runtime must not depend on
  /// exceptions being enabled to report it).
  std::vector<std::unique_ptr<Worker>> workers;
  std::mutex mutex;
  std::condition_variable wake; ///< workers wait for a new generation
  std::condition_variable done; ///< the caller waits for `pending == 0`
  /// Written under `mutex` (so that a sleeper's predicate sees them), read
  /// without it by polling threads. `job` and `taskCount` are published by
  /// the release increment of `generation`.
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stopping{false};
  SpinBudget callerSpin; ///< `run` is called by one thread at a time
  int taskCount = 0;
  const absl::FunctionRef<void(int)> *job = nullptr;
};

} // namespace llamac::hal::cpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H
