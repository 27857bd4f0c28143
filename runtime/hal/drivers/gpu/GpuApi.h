//===- GpuApi.h - the vendor driver calls a GPU device makes ----*- C++ -*-===//
//
// The CUDA and HIP driver APIs are alike call for call, so the device logic
// (buffers, module loading with the PTX fallback, launches, graph capture and
// replay, the {pos, rows} buffer) is written once in GpuDevice over this
// small interface, and drivers/cuda and drivers/hip only translate it to
// libcuda.so.1 and libamdhip64.so, which they dlopen. Tests implement it
// with a fake, so the device logic runs on machines with no GPU.
//
// One GpuApi owns one device's context and one stream; every call that
// enqueues work enqueues it on that stream. Handles (modules, functions,
// graphs) are the driver's, passed through as `void *`; device addresses are
// `void *` as well. Every failure is an absl::Status that names the driver
// function and carries the driver's own error name and text, e.g.
// "cuModuleGetFunction: CUDA_ERROR_NOT_FOUND: named symbol not found".
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_GPU_GPUAPI_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_GPU_GPUAPI_H

#include "runtime/hal/Program.h"

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstdint>
#include <string>

namespace llamac::hal::gpu {

class GpuApi {
public:
  virtual ~GpuApi() = default;

  /// The HAL device name: "cuda" or "hip".
  virtual std::string deviceKind() const = 0;
  /// The `kernels.format` this driver loads: "cubin" or "hsaco".
  virtual std::string codeFormat() const = 0;

  /// Device memory (at least 256-byte aligned); not zeroed.
  virtual absl::StatusOr<void *> allocate(uint64_t bytes) = 0;
  /// Errors are ignored: this runs in destructors.
  virtual void release(void *address) = 0;
  virtual absl::Status fillZero(void *dst, uint64_t bytes) = 0;
  /// `src` may be reused when this returns (the driver stages pageable
  /// memory before it returns).
  virtual absl::Status copyHostToDevice(void *dst, const void *src,
                                        uint64_t bytes) = 0;
  /// Returns when the bytes are in `dst`.
  virtual absl::Status copyDeviceToHost(void *dst, const void *src,
                                        uint64_t bytes) = 0;
  virtual absl::Status copyDeviceToDevice(void *dst, const void *src,
                                          uint64_t bytes) = 0;
  /// The stream itself (CUstream, hipStream_t), for libraries that enqueue
  /// work on it: NCCL's and RCCL's all-reduce.
  virtual void *nativeStream() const = 0;
  /// Waits for everything enqueued so far; reports faults of earlier
  /// kernels.
  virtual absl::Status synchronize() = 0;

  /// Loads a code object (cubin, HSACO, or NUL-terminated PTX text). When
  /// the driver refuses it because it was built for another GPU
  /// architecture, sets `*wrongArchitecture` (which the caller answers by
  /// trying the PTX).
  virtual absl::StatusOr<void *> loadModule(const void *image,
                                            bool *wrongArchitecture) = 0;
  virtual void unloadModule(void *module) = 0;
  virtual absl::StatusOr<void *> getFunction(void *module,
                                             const std::string &name) = 0;
  /// Lets `function` use `bytes` of dynamic shared memory per block (CUDA
  /// needs an opt-in above 48 KiB).
  virtual absl::Status allowSharedBytes(void *function, uint32_t bytes) = 0;
  /// `params[i]` points at the i-th kernel parameter; the driver copies
  /// them before it returns.
  virtual absl::Status launch(void *function, const LaunchDims &dims,
                              void **params) = 0;

  /// Starts recording the stream's work into a graph instead of running it.
  virtual absl::Status beginCapture() = 0;
  /// Stops recording (always: the stream leaves capture mode even when this
  /// fails) and instantiates what was recorded.
  virtual absl::StatusOr<void *> endCapture() = 0;
  virtual absl::Status launchGraph(void *graph) = 0;
  virtual void destroyGraph(void *graph) = 0;

  /// Device time, in ms, of the work that `enqueue` puts on the stream,
  /// measured with events recorded around it.
  virtual absl::StatusOr<double>
  timeOnStream(absl::FunctionRef<absl::Status()> enqueue) = 0;
};

} // namespace llamac::hal::gpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_GPU_GPUAPI_H
