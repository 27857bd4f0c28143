//===- GpuDevice.h - a HAL device over a GPU driver API ---------*- C++ -*-===//
//
// The CUDA and HIP devices: device memory for weights, KV cache and
// activations; the artifact's code object loaded as a module; dispatches
// launched with their static grid and block on the device's stream. The
// per-call scalars `pos` and `rows` live in a 16-byte device buffer owned
// here ({pos, rows}, int64 each) that kernels receive by address, so a
// program's launches do not change from one call to the next: a program
// marked `captureAsGraph` (decode) is captured once as a graph and each
// later run is one async copy of {pos, rows} and one graph launch on the
// same stream (docs/gpu-runtime.md).
//
// Threads: every operation on the stream (allocation, which zero-fills on
// it, copies, runs and the graph capture inside a run) holds one lock, so
// several threads may share a device: their work takes turns on the stream,
// a capture never records another thread's copy, and the one {pos, rows}
// buffer is written and read by one run at a time. Frees, graph and module
// destruction are not stream operations and take no lock (captures are in
// thread-local mode, which allows them on other threads).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_GPU_GPUDEVICE_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_GPU_GPUDEVICE_H

#include "runtime/hal/Device.h"
#include "runtime/hal/drivers/gpu/GpuApi.h"

#include <memory>
#include <mutex>

namespace llamac::hal::gpu {

class GpuDevice : public Device {
public:
  /// Takes over `api` (an open device context and stream) and allocates the
  /// {pos, rows} buffer.
  static absl::StatusOr<std::unique_ptr<GpuDevice>>
  create(std::unique_ptr<GpuApi> api);
  /// The device over a vendor API that `opened` holds, or the error that
  /// opening it (or creating the device) gave.
  template <typename Api>
  static absl::StatusOr<std::unique_ptr<Device>>
  open(absl::StatusOr<std::unique_ptr<Api>> opened) {
    if (!opened.ok())
      return opened.status();
    absl::StatusOr<std::unique_ptr<GpuDevice>> device = create(std::move(*opened));
    if (!device.ok())
      return device.status();
    return std::unique_ptr<Device>(std::move(*device));
  }
  ~GpuDevice() override;

  std::string name() const override { return api->deviceKind(); }
  int concurrency() const override { return 1; }
  absl::StatusOr<std::unique_ptr<Buffer>> allocate(uint64_t bytes) override;
  absl::StatusOr<std::unique_ptr<Buffer>>
  importConstant(const void *host, uint64_t bytes) override;
  absl::Status copyToDevice(Buffer &dst, uint64_t offset, const void *src,
                            uint64_t bytes) override;
  absl::Status copyToHost(void *dst, Buffer &src, uint64_t offset,
                          uint64_t bytes) override;
  /// Loads the code object; a cubin the GPU cannot run (another
  /// architecture) falls back to `source.ptx` when there is one.
  absl::StatusOr<std::unique_ptr<Executable>>
  loadExecutable(const ExecutableSource &source) override;
  /// Writes {pos, rows}, launches the program (or replays its graph) and
  /// waits for it.
  absl::Status run(const Program &program,
                   const Invocation &invocation) override;
  absl::StatusOr<double> timedCopyMs(Buffer &dst, Buffer &src,
                                     uint64_t bytes) override;

  /// The {pos, rows} buffer's device address (tests).
  void *posRowsAddress() const { return posRows; }

private:
  explicit GpuDevice(std::unique_ptr<GpuApi> api) : api(std::move(api)) {}
  /// allocate and copyToDevice with `streamMutex` held.
  absl::StatusOr<std::unique_ptr<Buffer>> allocateLocked(uint64_t bytes);
  absl::Status copyToDeviceLocked(Buffer &dst, uint64_t offset, const void *src,
                                  uint64_t bytes);
  /// Enqueues every dispatch of `program` on the stream.
  absl::Status enqueue(const Program &program);
  absl::Status launch(const BoundDispatch &dispatch, int64_t layer);
  /// A tensor-parallel collective step, through the GPU communicator.
  absl::Status enqueueCollective(const BoundDispatch &dispatch, int64_t layer);
  /// The program's graph, captured on its first run.
  absl::StatusOr<void *> graphFor(const Program &program);

  std::unique_ptr<GpuApi> api;
  void *posRows = nullptr;
  /// Held by every stream operation (see the file comment).
  std::mutex streamMutex;
};

} // namespace llamac::hal::gpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_GPU_GPUDEVICE_H
