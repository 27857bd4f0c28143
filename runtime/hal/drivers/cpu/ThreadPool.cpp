//===- ThreadPool.cpp - workers for ranged dispatches ---------------------===//

#include "runtime/hal/drivers/cpu/ThreadPool.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace llamac::hal::cpu {

namespace {

/// One poll's pause: `pause` on x86 (frees the core's other hyperthread and
/// avoids a memory-order flush on exit from the loop), a yield elsewhere.
inline void relaxWhilePolling() {
#if defined(__x86_64__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

/// Items per chunk when [0, range) is split `parts` ways (range > 0).
int64_t chunkSize(int64_t range, int parts) {
  int64_t n = std::max<int64_t>(1, std::min<int64_t>(parts, range));
  int64_t chunk = (range + n - 1) / n;
  constexpr int64_t kAlign = 16;
  if (range >= kAlign * n)
    chunk = (chunk + kAlign - 1) / kAlign * kAlign;
  return chunk;
}

} // namespace

std::vector<Chunk> splitRange(int64_t range, int parts) {
  std::vector<Chunk> chunks;
  if (range <= 0)
    return chunks;
  int64_t chunk = chunkSize(range, parts);
  for (int64_t begin = 0; begin < range; begin += chunk)
    chunks.push_back({begin, std::min(range, begin + chunk)});
  return chunks;
}

absl::StatusOr<std::unique_ptr<ThreadPool>> ThreadPool::create(int threads) {
  std::unique_ptr<ThreadPool> pool(new ThreadPool());
  for (int i = 1; i < threads; ++i) {
    auto worker = std::make_unique<Worker>(Worker{pool.get(), i, {}});
    if (int error = pthread_create(&worker->thread, nullptr, startWorker,
                                   worker.get()))
      // `pool` stops and joins the workers started so far.
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot start CPU worker thread ", i, " of the ", threads - 1,
          " asked for (--threads ", threads, "): ", std::strerror(error)));
    pool->workers.push_back(std::move(worker));
  }
  return pool;
}

void *ThreadPool::startWorker(void *worker) {
  Worker *w = static_cast<Worker *>(worker);
  w->pool->workerLoop(w->id);
  return nullptr;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping.store(true, std::memory_order_seq_cst);
  }
  wake.notify_all();
  for (const std::unique_ptr<Worker> &worker : workers)
    pthread_join(worker->thread, nullptr);
}

template <typename Ready>
void ThreadPool::waitUntil(SpinBudget &budget, std::condition_variable &cv,
                           std::atomic<int> &sleepers, Ready ready) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + std::chrono::nanoseconds(budget.nanos);
  auto waitedNanos = [&] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start)
        .count();
  };
  for (;;) {
    // Reading the clock costs ~20 ns: check it once per 64 polls.
    for (int i = 0; i < 64; ++i) {
      if (ready()) {
        budget.adapt(waitedNanos());
        return;
      }
      relaxWhilePolling();
    }
    if (Clock::now() >= end)
      break;
  }
  {
    // Announce the sleep before the last look at the predicate (both
    // sequentially consistent, as is the other side's store-then-load of
    // the predicate and `sleepers`): either this thread sees the change or
    // the changing thread sees the sleeper and notifies under `mutex`.
    std::unique_lock<std::mutex> lock(mutex);
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    cv.wait(lock, ready);
    sleepers.fetch_sub(1, std::memory_order_relaxed);
  }
  budget.adapt(waitedNanos());
}

void ThreadPool::workerLoop(int id) {
  uint64_t seen = 0;
  SpinBudget spin;
  for (;;) {
    waitUntil(spin, wake, sleepingWorkers, [&] {
      return stopping.load(std::memory_order_seq_cst) ||
             generation.load(std::memory_order_seq_cst) != seen;
    });
    if (stopping.load(std::memory_order_acquire))
      return;
    // Every worker checks in for every generation, needed or not: `run`
    // cannot post the next one before then, so `job` and `taskCount` stay
    // those of `seen` while they are read here (a worker that skipped
    // generations could read a newer taskCount beside an older job).
    seen = generation.load(std::memory_order_acquire);
    if (id < taskCount)
      (*job)(id);
    if (pending.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        sleepingCaller.load(std::memory_order_seq_cst) != 0) {
      // Taking the lock orders this against a caller that has just found
      // `pending` non-zero and is about to sleep.
      std::lock_guard<std::mutex> lock(mutex);
      done.notify_one();
    }
  }
}

void ThreadPool::run(int n, absl::FunctionRef<void(int)> task) {
  n = std::min(n, size());
  if (n <= 0)
    return;
  if (n == 1) {
    task(0);
    return;
  }
  // Workers read `job` and `taskCount` only after they see the new
  // generation, and the previous run's workers have all checked in.
  job = &task;
  taskCount = n;
  pending.store(size() - 1, std::memory_order_relaxed);
  generation.fetch_add(1, std::memory_order_seq_cst);
  if (sleepingWorkers.load(std::memory_order_seq_cst) != 0) {
    // Under `mutex`, so that no worker is between its last look at the
    // generation and its sleep.
    { std::lock_guard<std::mutex> lock(mutex); }
    wake.notify_all();
  }
  task(0);
  waitUntil(callerSpin, done, sleepingCaller, [&] {
    return pending.load(std::memory_order_seq_cst) == 0;
  });
}

void ThreadPool::parallelFor(int64_t range,
                             absl::FunctionRef<void(int64_t, int64_t)> body) {
  // The same chunks as splitRange, computed without allocating: this runs
  // for every dispatch of every token.
  if (range <= 0)
    return;
  int64_t chunk = chunkSize(range, size());
  int n = static_cast<int>((range + chunk - 1) / chunk);
  run(n, [&](int i) {
    int64_t begin = i * chunk;
    body(begin, std::min(range, begin + chunk));
  });
}

} // namespace llamac::hal::cpu
