//===- CpuDevice.h - the CPU driver -----------------------------*- C++ -*-===//
//
// Replays a bound schedule by calling the compiled kernels: a dispatch with
// a `range` is split over the thread pool, one contiguous chunk per thread,
// and every dispatch finishes before the next starts (the schedule is a
// sequence; the kernels do not synchronise among themselves). The pool
// runs one program at a time: concurrent `run` calls (sessions on several
// threads) take turns.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CPU_CPUDEVICE_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CPU_CPUDEVICE_H

#include "runtime/hal/Device.h"
#include "runtime/hal/drivers/cpu/ThreadPool.h"

#include <mutex>

namespace llamac::hal::cpu {

class CpuDevice : public Device {
public:
  /// `threads`: total parallelism including the calling thread, in
  /// [1, kMaxCpuThreads]. Fails when the system refuses a worker thread.
  static absl::StatusOr<std::unique_ptr<CpuDevice>> create(int threads);

  std::string name() const override { return "cpu"; }
  int concurrency() const override { return pool->size(); }
  absl::StatusOr<std::unique_ptr<Buffer>> allocate(uint64_t bytes) override;
  absl::StatusOr<std::unique_ptr<Buffer>>
  importConstant(const void *host, uint64_t bytes) override;
  absl::Status copyToDevice(Buffer &dst, uint64_t offset, const void *src,
                            uint64_t bytes) override;
  absl::Status copyToHost(void *dst, Buffer &src, uint64_t offset,
                          uint64_t bytes) override;
  /// Loads an "elf-shared-object" kernel library from memory.
  absl::StatusOr<std::unique_ptr<Executable>>
  loadExecutable(const ExecutableSource &source) override;
  absl::Status run(const Program &program,
                   const Invocation &invocation) override;
  bool runningOnThisThread() const override;

private:
  explicit CpuDevice(std::unique_ptr<ThreadPool> pool);
  absl::Status runDispatch(const BoundDispatch &dispatch, const Invocation &invocation,
                           int64_t layer);
  std::unique_ptr<ThreadPool> pool;
  /// Held for a whole `run`: the pool takes one job at a time, and a
  /// program's dispatches must not interleave with another's on it.
  std::mutex runMutex;
};

} // namespace llamac::hal::cpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CPU_CPUDEVICE_H
