//===- ThreadPool.h - workers for ranged dispatches -------------*- C++ -*-===//
//
// A fixed set of threads that run the chunks of one dispatch at a time. A
// decode token is ~110 dispatches of 0.1-0.5 ms each, and waking a sleeping
// thread for each (a futex and, in a VM, an interrupt to a halted vCPU) cost
// a fifth of int8 TinyLlama's token on 2 threads. So an idle worker, and the
// caller waiting for the workers, poll (with `pause`) before they sleep on a
// condition variable, for an adaptive time (SpinBudget): long while waits
// are short, as between the dispatches of a token on a quiet machine, and
// short once waits outlast it several times, as when other processes hold
// the cores (spinning without bound cut decode 2.5x on a loaded machine).
// A thread notifies a condition variable only when someone sleeps on it.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

#include <algorithm>
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

/// How long one waiting thread polls before it sleeps, within [kMin,
/// kMax]. kMax is longer than the gap between the dispatches of a token
/// and far shorter than a time slice. It adapts to how long the waits
/// really last, sleep included: doubled after a wait shorter than
/// kShortWait (polling longer would have caught it, or did), halved after
/// a longer one (another process held the core: polling only delays it).
/// Halving on every missed poll instead shrank it to kMin for good on a
/// quiet VM (88% of worker waits slept, 17% of the CPU in futex wakes).
struct SpinBudget {
  static constexpr int64_t kMinNanos = 1'000;
  static constexpr int64_t kMaxNanos = 50'000;
  /// A VM's wake-up of a sleeping vCPU alone takes tens of microseconds.
  static constexpr int64_t kShortWaitNanos = 4 * kMaxNanos;
  int64_t nanos = kMaxNanos;
  void adapt(int64_t waitedNanos) {
    nanos = waitedNanos < kShortWaitNanos ? std::min(kMaxNanos, nanos * 2)
                                          : std::max(kMinNanos, nanos / 2);
  }
};

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
  /// Waits until `ready()` holds: polls for up to `budget`, then sleeps on
  /// `cv` (whose predicate is read under `mutex`), counted in `sleepers`
  /// meanwhile so that the thread that makes `ready` true knows to notify.
  template <typename Ready>
  void waitUntil(SpinBudget &budget, std::condition_variable &cv,
                 std::atomic<int> &sleepers, Ready ready);

  /// pthreads, not std::thread: creating one reports failure as a value,
  /// where std::thread throws (and the runtime must not depend on
  /// exceptions being enabled to report it).
  std::vector<std::unique_ptr<Worker>> workers;
  std::mutex mutex;
  std::condition_variable wake; ///< workers wait for a new generation
  std::condition_variable done; ///< the caller waits for `pending == 0`
  /// Read by polling threads without `mutex`, and by sleepers' predicates
  /// under it; the sequentially consistent handshake with the `sleeping*`
  /// counts below (ThreadPool.cpp, waitUntil) keeps a sleeper from missing
  /// a change. `job` and `taskCount` are published by the increment of
  /// `generation`.
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stopping{false};
  /// Threads asleep (or about to be) on `wake` and on `done`: a thread that
  /// changes the predicate takes `mutex` and notifies only when one is, so a
  /// worker finishing the last chunk does not contend for `mutex` with a
  /// polling caller that is posting the next dispatch.
  std::atomic<int> sleepingWorkers{0};
  std::atomic<int> sleepingCaller{0};
  SpinBudget callerSpin; ///< `run` is called by one thread at a time
  int taskCount = 0;
  const absl::FunctionRef<void(int)> *job = nullptr;
};

} // namespace llamac::hal::cpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H
