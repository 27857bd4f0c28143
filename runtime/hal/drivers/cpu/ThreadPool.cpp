//===- ThreadPool.cpp - workers for ranged dispatches ---------------------===//

#include "runtime/hal/drivers/cpu/ThreadPool.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>

namespace llamac::hal::cpu {

namespace {

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
    stopping = true;
  }
  wake.notify_all();
  for (const std::unique_ptr<Worker> &worker : workers)
    pthread_join(worker->thread, nullptr);
}

void ThreadPool::workerLoop(int id) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    wake.wait(lock, [&] { return stopping || generation != seen; });
    if (stopping)
      return;
    // A worker that is not needed may sleep through several generations:
    // `run` only waits for the tasks it handed out.
    seen = generation;
    if (id >= taskCount)
      continue;
    const absl::FunctionRef<void(int)> *task = job;
    lock.unlock();
    (*task)(id);
    lock.lock();
    if (--pending == 0)
      done.notify_one();
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
  {
    std::lock_guard<std::mutex> lock(mutex);
    job = &task;
    taskCount = n;
    pending = n - 1;
    ++generation;
  }
  wake.notify_all();
  task(0);
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&] { return pending == 0; });
  job = nullptr;
  taskCount = 0;
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
