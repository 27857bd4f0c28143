//===- ThreadPool.h - workers for ranged dispatches -------------*- C++ -*-===//
//
// A fixed set of threads that run the chunks of one dispatch at a time. Idle
// workers sleep on a condition variable: a spinning idle thread competes for
// memory bandwidth, and decode is bandwidth-bound (spinning cut it 2.5x on
// our machines).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

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

  /// pthreads, not std::thread: creating one reports failure as a value,
  /// where std::thread throws (and the runtime must not depend on
  /// exceptions being enabled to report it).
  std::vector<std::unique_ptr<Worker>> workers;
  std::mutex mutex;
  std::condition_variable wake; ///< workers wait for a new generation
  std::condition_variable done; ///< the caller waits for `pending == 0`
  uint64_t generation = 0;
  int taskCount = 0;
  int pending = 0;
  const absl::FunctionRef<void(int)> *job = nullptr;
  bool stopping = false;
};

} // namespace llamac::hal::cpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CPU_THREADPOOL_H
