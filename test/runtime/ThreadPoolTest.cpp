//===- ThreadPoolTest.cpp - ranges, chunks and /proc/cpuinfo --------------===//

#include "runtime/hal/drivers/cpu/ThreadPool.h"
#include "runtime/hal/drivers/cpu/CpuInfo.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

namespace llamac::hal::cpu {
namespace {

std::unique_ptr<ThreadPool> startPool(int threads) {
  absl::StatusOr<std::unique_ptr<ThreadPool>> pool = ThreadPool::create(threads);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? std::move(*pool) : nullptr;
}

TEST(ThreadPoolTest, SplitRangeCoversEverythingOnce) {
  for (int parts : {1, 2, 3, 4, 7, 16}) {
    for (int64_t range :
         {1, 2, 5, 15, 16, 17, 63, 64, 100, 288, 1000, 4096, 32000}) {
      std::vector<Chunk> chunks = splitRange(range, parts);
      ASSERT_FALSE(chunks.empty());
      EXPECT_LE(static_cast<int>(chunks.size()), parts);
      int64_t next = 0;
      for (const Chunk &c : chunks) {
        EXPECT_EQ(c.begin, next);
        EXPECT_LT(c.begin, c.end);
        next = c.end;
      }
      EXPECT_EQ(next, range) << range << " over " << parts;
      // Boundaries on multiples of 16 when there is room for it.
      if (range >= 16 * parts) {
        for (size_t i = 0; i + 1 < chunks.size(); ++i)
          EXPECT_EQ(chunks[i].end % 16, 0) << range << " over " << parts;
      }
    }
  }
  EXPECT_TRUE(splitRange(0, 4).empty());
}

TEST(ThreadPoolTest, ParallelForCoversTheRangeExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    std::unique_ptr<ThreadPool> pool = startPool(threads);
    EXPECT_EQ(pool->size(), threads);
    for (int64_t range : {1, 3, 16, 17, 100, 1000, 4099}) {
      std::vector<std::atomic<int>> hits(range);
      pool->parallelFor(range, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          hits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < range; ++i)
        ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << range
                                     << " with " << threads << " threads";
    }
  }
}

TEST(ThreadPoolTest, UsesSeveralThreads) {
  std::unique_ptr<ThreadPool> pool = startPool(4);
  std::mutex mutex;
  std::set<std::thread::id> ids;
  for (int round = 0; round < 20; ++round)
    pool->run(4, [&](int) {
      std::lock_guard<std::mutex> lock(mutex);
      ids.insert(std::this_thread::get_id());
    });
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_TRUE(ids.count(std::this_thread::get_id()));
}

TEST(ThreadPoolTest, ManyShortRunsInARow) {
  // The decode hot path: thousands of small dispatches back to back.
  std::unique_ptr<ThreadPool> pool = startPool(3);
  std::atomic<int64_t> total{0};
  for (int i = 0; i < 5000; ++i)
    pool->parallelFor(
        48, [&](int64_t begin, int64_t end) { total.fetch_add(end - begin); });
  EXPECT_EQ(total.load(), 5000 * 48);
}

TEST(ThreadPoolTest, FewerTasksThanThreads) {
  std::unique_ptr<ThreadPool> pool = startPool(8);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i)
    pool->run(2, [&](int) { ran.fetch_add(1); });
  EXPECT_EQ(ran.load(), 200);
}

TEST(ThreadPoolTest, EachRunHandsOutItsOwnTasks) {
  // Runs of 1 to 4 tasks back to back, while idle workers poll: a worker
  // must run the task of the run it was handed, never a stale one, and
  // a worker left out of a run must not run anything.
  std::unique_ptr<ThreadPool> pool = startPool(4);
  std::vector<std::atomic<int>> lastRun(4);
  for (std::atomic<int> &last : lastRun)
    last.store(-1);
  for (int run = 0; run < 4000; ++run) {
    int n = 1 + run % 4;
    pool->run(n, [&, run](int task) { lastRun[task].store(run); });
    for (int task = 0; task < 4; ++task) {
      if (task < n)
        ASSERT_EQ(lastRun[task].load(), run) << "task " << task << " of run " << run;
      else
        ASSERT_LT(lastRun[task].load(), run) << "task " << task << " ran in run " << run;
    }
  }
}

TEST(ThreadPoolTest, WakesWorkersThatFellAsleep) {
  // Pauses far longer than any polling budget between runs: the workers
  // sleep on the condition variable and each run must wake them.
  std::unique_ptr<ThreadPool> pool = startPool(3);
  for (int round = 0; round < 12; ++round) {
    if (round % 2)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::vector<std::atomic<int>> hits(3);
    pool->run(3, [&](int task) { hits[task].fetch_add(1); });
    for (int task = 0; task < 3; ++task)
      ASSERT_EQ(hits[task].load(), 1) << "task " << task << " in round " << round;
  }
}

TEST(ThreadPoolTest, WakesACallerThatFellAsleep) {
  // The worker's task outlasts any polling budget: the caller sleeps on
  // `done`, and the worker that finishes last must wake it.
  std::unique_ptr<ThreadPool> pool = startPool(2);
  for (int round = 0; round < 6; ++round) {
    std::atomic<int> finished{0};
    pool->run(2, [&](int task) {
      if (task == 1)
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
      finished.fetch_add(1);
    });
    ASSERT_EQ(finished.load(), 2) << "run returned before its tasks, round " << round;
  }
}

TEST(SpinBudgetTest, ShrinksUnderLongWaitsAndRecovers) {
  SpinBudget budget;
  EXPECT_EQ(budget.nanos, SpinBudget::kMaxNanos);
  // Waits of a time slice (another process held the core) shrink it to the
  // floor and no further.
  for (int i = 0; i < 20; ++i)
    budget.adapt(4'000'000);
  EXPECT_EQ(budget.nanos, SpinBudget::kMinNanos);
  // Waits that slept but were short (the condition came soon after the poll
  // gave up) bring it back: missing the poll alone must not keep it small.
  for (int i = 0; i < 6; ++i)
    budget.adapt(SpinBudget::kMaxNanos + 30'000);
  EXPECT_EQ(budget.nanos, SpinBudget::kMaxNanos);
  budget.adapt(10'000);
  EXPECT_EQ(budget.nanos, SpinBudget::kMaxNanos);
}

/// Virtual memory this process has mapped, from /proc/self/statm.
uint64_t mappedBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  statm >> pages;
  return pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

/// Caps the address space just above what is mapped now, so that the
/// 8 MiB stacks of 63 workers cannot all be mapped (as under `ulimit -v`,
/// or `ulimit -u`, which root ignores), and creates a pool of 64. Exits 0
/// when creating it failed with ResourceExhausted, printing the message.
[[noreturn]] void createPoolUnderAddressLimit() {
  uint64_t limit = mappedBytes() + (uint64_t(24) << 20);
  struct rlimit capped;
  capped.rlim_cur = capped.rlim_max = limit;
  if (setrlimit(RLIMIT_AS, &capped) != 0)
    _exit(4);
  absl::StatusOr<std::unique_ptr<ThreadPool>> pool = ThreadPool::create(64);
  if (pool.ok())
    _exit(2);
  std::fprintf(stderr, "%s\n", std::string(pool.status().message()).c_str());
  _exit(absl::IsResourceExhausted(pool.status()) ? 0 : 3);
}

TEST(ThreadPoolTest, ReportsThreadsTheSystemRefuses) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer maps more than an address-space limit "
                  "allows";
#endif
  // In a child process: creating the pool must fail with the reason, not
  // throw or abort.
  EXPECT_EXIT(createPoolUnderAddressLimit(), ::testing::ExitedWithCode(0),
              "cannot start CPU worker thread [0-9]+ of the 63 asked for "
              "\\(--threads 64\\): Resource temporarily unavailable");
}

constexpr const char *kCpuinfo = R"(processor	: 0
vendor_id	: GenuineIntel
physical id	: 0
core id		: 0
flags		: fpu sse sse2 avx avx2 fma

processor	: 1
physical id	: 0
core id		: 1
flags		: fpu sse sse2 avx avx2 fma

processor	: 2
physical id	: 0
core id		: 0
flags		: fpu sse sse2 avx avx2 fma

processor	: 3
physical id	: 1
core id		: 0
flags		: fpu sse sse2 avx avx2 fma
)";

TEST(CpuInfoTest, CountsPhysicalCores) {
  // (0,0) (0,1) (0,0 again: a hyperthread) (1,0).
  EXPECT_EQ(countPhysicalCores(kCpuinfo), 3);
  EXPECT_EQ(countPhysicalCores(""), 0);
  EXPECT_EQ(countPhysicalCores("processor : 0\nprocessor : 1\n"), 0);
  EXPECT_GE(defaultThreadCount(), 1);
}

TEST(CpuInfoTest, ParsesFlags) {
  std::set<std::string> flags = parseCpuFlags(kCpuinfo);
  EXPECT_TRUE(flags.count("avx2"));
  EXPECT_TRUE(flags.count("fma"));
  EXPECT_FALSE(flags.count("avx512f"));
}

TEST(CpuInfoTest, RefusesMissingFeatures) {
  EXPECT_TRUE(checkCpuFeatures("m.llamac", {"avx2", "fma"}, kCpuinfo).ok());
  absl::Status s =
      checkCpuFeatures("m.llamac", {"avx2", "avx512f", "avx512bw"}, kCpuinfo);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "m.llamac was compiled for CPU features this machine "
                         "lacks: avx512f, avx512bw");
  // No flags readable (another OS or architecture): do not refuse.
  EXPECT_TRUE(checkCpuFeatures("m.llamac", {"avx512f"}, "").ok());
}

} // namespace
} // namespace llamac::hal::cpu
