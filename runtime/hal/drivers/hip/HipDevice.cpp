//===- HipDevice.cpp - the HIP driver -------------------------------------===//

#include "runtime/hal/drivers/hip/HipDevice.h"
#include "runtime/hal/drivers/gpu/DriverLibrary.h"
#include "runtime/hal/drivers/gpu/GpuApi.h"
#include "runtime/hal/drivers/gpu/GpuDevice.h"
#include "runtime/hal/drivers/hip/HipDriverApi.h"

#include "absl/strings/str_cat.h"

#include <string_view>

namespace llamac::hal::hip {

namespace {

absl::Status resolveAll(const gpu::DriverLibrary &lib, HipDriverApi &f) {
  absl::Status s;
  auto need = [&](const char *symbol, auto *fn) {
    if (s.ok())
      s = lib.resolve(symbol, fn);
  };
#define LLAMAC_HIP_RESOLVE(name) need(#name, &f.name);
  LLAMAC_HIP_DRIVER_ENTRY_POINTS(LLAMAC_HIP_RESOLVE)
#undef LLAMAC_HIP_RESOLVE
  return s;
}

class HipApi : public gpu::GpuApi {
public:
  static absl::StatusOr<std::unique_ptr<HipApi>> open(int ordinal);
  ~HipApi() override {
    if (stream)
      call(f.hipStreamDestroy, stream);
  }

  std::string deviceKind() const override { return "hip"; }
  std::string codeFormat() const override { return "hsaco"; }
  void *nativeStream() const override { return stream; }

  absl::StatusOr<void *> allocate(uint64_t bytes) override {
    void *p = nullptr;
    if (absl::Status s = check(call(f.hipMalloc, &p, bytes), "hipMalloc");
        !s.ok())
      return s;
    return p;
  }
  void release(void *p) override { call(f.hipFree, p); }
  absl::Status fillZero(void *dst, uint64_t bytes) override {
    return check(call(f.hipMemsetAsync, dst, 0, bytes, stream),
                 "hipMemsetAsync");
  }
  absl::Status copyHostToDevice(void *dst, const void *src,
                                uint64_t bytes) override {
    return check(call(f.hipMemcpyHtoDAsync, dst, src, bytes, stream),
                 "hipMemcpyHtoDAsync");
  }
  absl::Status copyDeviceToHost(void *dst, const void *src,
                                uint64_t bytes) override {
    if (absl::Status s = check(call(f.hipMemcpyDtoHAsync, dst,
                                    const_cast<void *>(src), bytes, stream),
                               "hipMemcpyDtoHAsync");
        !s.ok())
      return s;
    return synchronize();
  }
  absl::Status copyDeviceToDevice(void *dst, const void *src,
                                  uint64_t bytes) override {
    return check(call(f.hipMemcpyDtoDAsync, dst, const_cast<void *>(src),
                      bytes, stream),
                 "hipMemcpyDtoDAsync");
  }
  absl::Status synchronize() override {
    return check(call(f.hipStreamSynchronize, stream), "hipStreamSynchronize");
  }

  absl::StatusOr<void *> loadModule(const void *image,
                                    bool *wrongArchitecture) override {
    hipModule_t module = nullptr;
    hipError_t r = call(f.hipModuleLoadData, &module, image);
    *wrongArchitecture =
        r == hipErrorNoBinaryForGpu || r == hipErrorInvalidImage;
    if (absl::Status s = check(r, "hipModuleLoadData"); !s.ok())
      return s;
    return static_cast<void *>(module);
  }
  void unloadModule(void *module) override {
    call(f.hipModuleUnload, static_cast<hipModule_t>(module));
  }
  absl::StatusOr<void *> getFunction(void *module,
                                     const std::string &name) override {
    hipFunction_t fn = nullptr;
    if (absl::Status s = check(call(f.hipModuleGetFunction, &fn,
                                    static_cast<hipModule_t>(module),
                                    name.c_str()),
                               "hipModuleGetFunction");
        !s.ok())
      return s;
    return static_cast<void *>(fn);
  }
  /// AMD GPUs give a block all of its LDS (64 KiB) without an opt-in.
  absl::Status allowSharedBytes(void *, uint32_t) override {
    return absl::OkStatus();
  }
  absl::Status launch(void *fn, const LaunchDims &d, void **params) override {
    return check(call(f.hipModuleLaunchKernel, static_cast<hipFunction_t>(fn),
                      d.grid[0], d.grid[1], d.grid[2], d.block[0], d.block[1],
                      d.block[2], d.sharedBytes, stream, params, nullptr),
                 "hipModuleLaunchKernel");
  }

  absl::Status beginCapture() override {
    return check(call(f.hipStreamBeginCapture, stream,
                      hipStreamCaptureModeThreadLocal),
                 "hipStreamBeginCapture");
  }
  absl::StatusOr<void *> endCapture() override {
    hipGraph_t graph = nullptr;
    if (absl::Status s = check(call(f.hipStreamEndCapture, stream, &graph),
                               "hipStreamEndCapture");
        !s.ok())
      return s;
    hipGraphExec_t exec = nullptr;
    absl::Status s =
        check(call(f.hipGraphInstantiateWithFlags, &exec, graph, 0ull),
              "hipGraphInstantiateWithFlags");
    // The executable graph is independent of the graph it was made from.
    call(f.hipGraphDestroy, graph);
    if (!s.ok())
      return s;
    return static_cast<void *>(exec);
  }
  absl::Status launchGraph(void *graph) override {
    return check(
        call(f.hipGraphLaunch, static_cast<hipGraphExec_t>(graph), stream),
        "hipGraphLaunch");
  }
  void destroyGraph(void *graph) override {
    call(f.hipGraphExecDestroy, static_cast<hipGraphExec_t>(graph));
  }

  absl::StatusOr<double>
  timeOnStream(absl::FunctionRef<absl::Status()> enqueue) override {
    hipEvent_t start = nullptr, end = nullptr;
    absl::Status s = check(call(f.hipEventCreate, &start), "hipEventCreate");
    if (s.ok())
      s = check(call(f.hipEventCreate, &end), "hipEventCreate");
    if (s.ok())
      s = check(call(f.hipEventRecord, start, stream), "hipEventRecord");
    if (s.ok())
      s = enqueue();
    if (s.ok())
      s = check(call(f.hipEventRecord, end, stream), "hipEventRecord");
    if (s.ok())
      s = check(call(f.hipEventSynchronize, end), "hipEventSynchronize");
    float ms = 0;
    if (s.ok())
      s = check(call(f.hipEventElapsedTime, &ms, start, end),
                "hipEventElapsedTime");
    if (start)
      call(f.hipEventDestroy, start);
    if (end)
      call(f.hipEventDestroy, end);
    if (!s.ok())
      return s;
    return static_cast<double>(ms);
  }

private:
  HipApi(std::unique_ptr<gpu::DriverLibrary> library, int ordinal)
      : library(std::move(library)), ordinal(ordinal) {}

  /// Calls `fn` with this device current: the current device is per
  /// thread, and this lets any thread use it.
  template <typename Fn, typename... Args>
  hipError_t call(Fn fn, Args... args) {
    f.hipSetDevice(ordinal);
    return fn(args...);
  }

  /// "hipModuleLaunchKernel: hipErrorInvalidValue: invalid argument".
  absl::Status check(hipError_t r, const char *what) const {
    if (r == hipSuccess)
      return absl::OkStatus();
    const char *name = f.hipGetErrorName(r);
    const char *text = f.hipGetErrorString(r);
    if (!name)
      return absl::InternalError(
          absl::StrCat(what, ": HIP error ", r, " (the runtime gives no name)"));
    // HIP's descriptions are often just the name again.
    if (!text || std::string_view(text) == name)
      return absl::InternalError(absl::StrCat(what, ": ", name));
    return absl::InternalError(absl::StrCat(what, ": ", name, ": ", text));
  }

  std::unique_ptr<gpu::DriverLibrary> library;
  HipDriverApi f{};
  int ordinal;
  hipStream_t stream = nullptr;
};

absl::StatusOr<std::unique_ptr<HipApi>> HipApi::open(int ordinal) {
  absl::StatusOr<std::unique_ptr<gpu::DriverLibrary>> library =
      gpu::DriverLibrary::open(
          {kHipDriverLibrary, "libamdhip64.so.7", "libamdhip64.so.6",
           "libamdhip64.so.5"},
          "LLAMAC_HIP_DRIVER", "no ROCm HIP runtime on this machine");
  if (!library.ok())
    return library.status();
  std::unique_ptr<HipApi> api(new HipApi(std::move(*library), ordinal));
  HipDriverApi &f = api->f;
  if (absl::Status s = resolveAll(*api->library, f); !s.ok())
    return s;
  // Without a GPU (or its kernel driver) HIP fails here, not at the count.
  if (absl::Status s = api->check(f.hipInit(0), "hipInit"); !s.ok())
    return absl::Status(s.code(), absl::StrCat(s.message(), " (no usable AMD GPU)"));
  int count = 0;
  if (absl::Status s =
          api->check(f.hipGetDeviceCount(&count), "hipGetDeviceCount");
      !s.ok())
    return s;
  if (ordinal < 0 || ordinal >= count)
    return absl::NotFoundError(absl::StrCat(
        "no HIP device ", ordinal, " (this machine has ", count, ")"));
  // Non-blocking: the stream does not wait for work on the null stream.
  if (absl::Status s = api->check(api->call(f.hipStreamCreateWithFlags,
                                            &api->stream, hipStreamNonBlocking),
                                  "hipStreamCreateWithFlags");
      !s.ok())
    return s;
  return api;
}

} // namespace

absl::StatusOr<std::unique_ptr<Device>> openHipDevice(int ordinal) {
  return gpu::GpuDevice::open(HipApi::open(ordinal));
}

} // namespace llamac::hal::hip
