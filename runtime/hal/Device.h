//===- Device.h - the runtime's hardware abstraction ------------*- C++ -*-===//
//
// What the generation loop needs from a device: memory, copies between it
// and the host, the artifact's kernels loaded onto it, and a way to replay a
// bound dispatch schedule. Drivers live in runtime/hal/drivers/<name>/: cpu,
// and cuda and hip, which load their driver libraries with dlopen at run
// time (drivers/gpu holds what the two share).
//
// Threads: a Device is shared (by the sessions of a model, and by models
// loaded onto one device), and every driver's methods may be called from
// several threads at once. A driver serializes what its callers share: the
// CPU driver runs one program at a time on its thread pool; a GPU driver
// puts one stream operation at a time on its stream (a run, with its graph
// capture, is one). Buffers and programs are not locked: each is used by
// one thread at a time (its session's).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DEVICE_H
#define LLAMAC_RUNTIME_HAL_DEVICE_H

#include "runtime/hal/Executable.h"
#include "runtime/hal/Program.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llamac::hal {

/// The most threads the CPU driver runs (`--threads`). Every dispatch is a
/// fork and a join over all of them, so beyond a few hundred the
/// synchronisation costs more than any model's slice of work saves; a
/// larger request is an error rather than thousands of threads.
inline constexpr int kMaxCpuThreads = 256;

/// Device memory. Host-visible on the CPU driver.
class Buffer {
public:
  virtual ~Buffer() = default;
  /// The device address the kernels receive.
  virtual void *data() = 0;
  virtual uint64_t size() const = 0;
  /// Host access to the same memory, or null when the host cannot see it
  /// (GPU memory: use Device::copyToDevice / copyToHost).
  virtual void *hostData() { return data(); }
};

class Device {
public:
  virtual ~Device() = default;
  /// "cpu", "cuda", "hip".
  virtual std::string name() const = 0;
  /// Worker threads (CPU) used to run ranged dispatches; 1 on a GPU.
  virtual int concurrency() const = 0;
  /// `bytes` of zero-initialised memory, aligned to at least 64 bytes.
  virtual absl::StatusOr<std::unique_ptr<Buffer>> allocate(uint64_t bytes) = 0;
  /// Read-only device memory holding the `bytes` bytes at `host`, which the
  /// caller keeps alive and unchanged while the buffer lives (weights in the
  /// mapped artifact). The CPU driver uses them in place, with no copy; GPU
  /// drivers upload them once.
  virtual absl::StatusOr<std::unique_ptr<Buffer>>
  importConstant(const void *host, uint64_t bytes) = 0;
  /// Copies `bytes` host bytes into `dst` at `offset`, ordered before the
  /// next `run`; `src` may be reused when this returns.
  virtual absl::Status copyToDevice(Buffer &dst, uint64_t offset,
                                    const void *src, uint64_t bytes) = 0;
  /// Copies `bytes` of `src` at `offset` to the host after everything run
  /// before has finished; returns when they are there.
  virtual absl::Status copyToHost(void *dst, Buffer &src, uint64_t offset,
                                  uint64_t bytes) = 0;
  /// Loads an artifact's kernels; an error when the format is not this
  /// device's.
  virtual absl::StatusOr<std::unique_ptr<Executable>>
  loadExecutable(const ExecutableSource &source) = 0;
  /// Runs `program` to completion.
  virtual absl::Status run(const Program &program,
                           const Invocation &invocation) = 0;
  /// Whether this thread is inside this device's `run` (a dispatch
  /// observer's call): another run would wait on the device forever, and
  /// writing its inputs would change the running program's.
  virtual bool runningOnThisThread() const { return false; }
  /// Copies `bytes` from `src` to `dst` on the device and returns the
  /// device time it took, in ms (the GPU drivers' bandwidth probe: a driver
  /// API copy timed by events). Unimplemented on the CPU, whose probe is a
  /// read loop on its own threads (runtime/bench/ReadProbe.h).
  virtual absl::StatusOr<double> timedCopyMs(Buffer &dst, Buffer &src,
                                             uint64_t bytes) {
    return absl::UnimplementedError(
        absl::StrCat("the ", name(), " device has no timed copy"));
  }
};

/// Checks that [offset, offset + bytes) lies in a buffer of `size` bytes;
/// drivers call it before every copy.
absl::Status checkCopyRange(uint64_t size, uint64_t offset, uint64_t bytes);

/// Calls `launch(dispatch, layer)` for every dispatch of `program` in order:
/// the prologue (layer 0), the layer body for each layer, the epilogue
/// (layer 0); stops at the first error.
absl::Status forEachDispatch(
    const Program &program,
    absl::FunctionRef<absl::Status(const BoundDispatch &, int64_t layer)> launch);

/// The parameters of GPU dispatch `d` at `layer`, 8 bytes each, into
/// `slots` (d.args.size() of them): addresses, the layer by value, and pos
/// and rows as the address of their int64 in the {pos, rows} buffer at
/// `posRowsAddress` (docs/artifact-format.md, GPU targets). An error when
/// the dispatch was not bound for `device`'s kernels or has too many
/// arguments.
absl::Status gpuLaunchArgs(const BoundDispatch &d, int64_t layer, uint64_t posRowsAddress,
                           absl::string_view device, uint64_t (&slots)[kMaxKernelArgs]);

} // namespace llamac::hal

#endif // LLAMAC_RUNTIME_HAL_DEVICE_H
