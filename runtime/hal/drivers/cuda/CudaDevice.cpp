//===- CudaDevice.cpp - the CUDA driver -----------------------------------===//

#include "runtime/hal/drivers/cuda/CudaDevice.h"
#include "runtime/hal/drivers/cuda/CudaDriverApi.h"
#include "runtime/hal/drivers/gpu/DriverLibrary.h"
#include "runtime/hal/drivers/gpu/GpuApi.h"
#include "runtime/hal/drivers/gpu/GpuDevice.h"

#include "absl/strings/str_cat.h"

namespace llamac::hal::cuda {

namespace {

CUdeviceptr address(const void *p) { return reinterpret_cast<CUdeviceptr>(p); }

absl::Status resolveAll(const gpu::DriverLibrary &lib, CudaDriverApi &f) {
  absl::Status s;
  auto need = [&](const char *symbol, auto *fn) {
    if (s.ok())
      s = lib.resolve(symbol, fn);
  };
#define LLAMAC_CUDA_RESOLVE(member, symbol) need(#symbol, &f.member);
  LLAMAC_CUDA_DRIVER_ENTRY_POINTS(LLAMAC_CUDA_RESOLVE)
#undef LLAMAC_CUDA_RESOLVE
  return s;
}

class CudaApi : public gpu::GpuApi {
public:
  static absl::StatusOr<std::unique_ptr<CudaApi>> open(int ordinal);
  ~CudaApi() override {
    if (context)
      f.cuCtxSetCurrent(context);
    if (stream)
      f.cuStreamDestroy(stream);
    if (context)
      f.cuDevicePrimaryCtxRelease(device);
  }

  std::string deviceKind() const override { return "cuda"; }
  std::string codeFormat() const override { return "cubin"; }
  void *nativeStream() const override { return stream; }

  absl::StatusOr<void *> allocate(uint64_t bytes) override {
    CUdeviceptr p = 0;
    if (absl::Status s = check(call(f.cuMemAlloc, &p, bytes),
                               "cuMemAlloc");
        !s.ok())
      return s;
    return reinterpret_cast<void *>(p);
  }
  void release(void *p) override { call(f.cuMemFree, address(p)); }
  absl::Status fillZero(void *dst, uint64_t bytes) override {
    return check(call(f.cuMemsetD8Async, address(dst), 0, bytes, stream),
                 "cuMemsetD8Async");
  }
  absl::Status copyHostToDevice(void *dst, const void *src,
                                uint64_t bytes) override {
    return check(
        call(f.cuMemcpyHtoDAsync, address(dst), src, bytes, stream),
        "cuMemcpyHtoDAsync");
  }
  absl::Status copyDeviceToHost(void *dst, const void *src,
                                uint64_t bytes) override {
    if (absl::Status s = check(call(f.cuMemcpyDtoHAsync, 
                                   dst, address(src), bytes, stream),
                               "cuMemcpyDtoHAsync");
        !s.ok())
      return s;
    return synchronize();
  }
  absl::Status copyDeviceToDevice(void *dst, const void *src,
                                  uint64_t bytes) override {
    return check(call(f.cuMemcpyDtoDAsync, address(dst), address(src),
                                                  bytes, stream),
                 "cuMemcpyDtoDAsync");
  }
  absl::Status synchronize() override {
    return check(call(f.cuStreamSynchronize, stream),
                 "cuStreamSynchronize");
  }

  absl::StatusOr<void *> loadModule(const void *image,
                                    bool *wrongArchitecture) override {
    CUmodule module = nullptr;
    CUresult r = call(f.cuModuleLoadData, &module, image);
    *wrongArchitecture =
        r == CUDA_ERROR_NO_BINARY_FOR_GPU || r == CUDA_ERROR_INVALID_IMAGE;
    if (absl::Status s = check(r, "cuModuleLoadData"); !s.ok())
      return s;
    return static_cast<void *>(module);
  }
  void unloadModule(void *module) override {
    call(f.cuModuleUnload, static_cast<CUmodule>(module));
  }
  absl::StatusOr<void *> getFunction(void *module,
                                     const std::string &name) override {
    CUfunction fn = nullptr;
    if (absl::Status s = check(call(f.cuModuleGetFunction, 
                                   &fn, static_cast<CUmodule>(module),
                                   name.c_str()),
                               "cuModuleGetFunction");
        !s.ok())
      return s;
    return static_cast<void *>(fn);
  }
  absl::Status allowSharedBytes(void *fn, uint32_t bytes) override {
    return check(call(f.cuFuncSetAttribute, 
                     static_cast<CUfunction>(fn),
                     CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                     static_cast<int>(bytes)),
                 "cuFuncSetAttribute");
  }
  absl::Status launch(void *fn, const LaunchDims &d, void **params) override {
    return check(call(f.cuLaunchKernel, 
                     static_cast<CUfunction>(fn), d.grid[0], d.grid[1],
                     d.grid[2], d.block[0], d.block[1], d.block[2],
                     d.sharedBytes, stream, params, nullptr),
                 "cuLaunchKernel");
  }

  absl::Status beginCapture() override {
    return check(call(f.cuStreamBeginCapture, 
                     stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                 "cuStreamBeginCapture");
  }
  absl::StatusOr<void *> endCapture() override {
    CUgraph graph = nullptr;
    if (absl::Status s =
            check(call(f.cuStreamEndCapture, stream, &graph),
                  "cuStreamEndCapture");
        !s.ok())
      return s;
    CUgraphExec exec = nullptr;
    absl::Status s =
        check(f.cuGraphInstantiateWithFlags(&exec, graph, 0),
              "cuGraphInstantiateWithFlags");
    // The executable graph is independent of the graph it was made from.
    f.cuGraphDestroy(graph);
    if (!s.ok())
      return s;
    return static_cast<void *>(exec);
  }
  absl::Status launchGraph(void *graph) override {
    return check(call(f.cuGraphLaunch, static_cast<CUgraphExec>(graph),
                                             stream),
                 "cuGraphLaunch");
  }
  void destroyGraph(void *graph) override {
    call(f.cuGraphExecDestroy, static_cast<CUgraphExec>(graph));
  }

  absl::StatusOr<double>
  timeOnStream(absl::FunctionRef<absl::Status()> enqueue) override {
    CUevent start = nullptr, end = nullptr;
    absl::Status s = check(call(f.cuEventCreate, &start, CU_EVENT_DEFAULT),
                           "cuEventCreate");
    if (s.ok())
      s = check(f.cuEventCreate(&end, CU_EVENT_DEFAULT), "cuEventCreate");
    if (s.ok())
      s = check(f.cuEventRecord(start, stream), "cuEventRecord");
    if (s.ok())
      s = enqueue();
    if (s.ok())
      s = check(f.cuEventRecord(end, stream), "cuEventRecord");
    if (s.ok())
      s = check(f.cuEventSynchronize(end), "cuEventSynchronize");
    float ms = 0;
    if (s.ok())
      s = check(f.cuEventElapsedTime(&ms, start, end), "cuEventElapsedTime");
    if (start)
      f.cuEventDestroy(start);
    if (end)
      f.cuEventDestroy(end);
    if (!s.ok())
      return s;
    return static_cast<double>(ms);
  }

private:
  explicit CudaApi(std::unique_ptr<gpu::DriverLibrary> library)
      : library(std::move(library)) {}

  /// Calls `fn` with this device's context current: contexts are current
  /// per thread, and this lets any thread use the device.
  template <typename Fn, typename... Args> CUresult call(Fn fn, Args... args) {
    f.cuCtxSetCurrent(context);
    return fn(args...);
  }

  /// "cuLaunchKernel: CUDA_ERROR_INVALID_VALUE: invalid argument".
  absl::Status check(CUresult r, const char *call) const {
    if (r == CUDA_SUCCESS)
      return absl::OkStatus();
    const char *name = nullptr;
    const char *text = nullptr;
    // A stub or broken driver may not name its own errors; keep the number.
    if (f.cuGetErrorName(r, &name) != CUDA_SUCCESS || !name)
      return absl::InternalError(
          absl::StrCat(call, ": CUDA error ", r, " (the driver gives no name)"));
    if (f.cuGetErrorString(r, &text) != CUDA_SUCCESS || !text)
      text = "no description";
    return absl::InternalError(absl::StrCat(call, ": ", name, ": ", text));
  }

  std::unique_ptr<gpu::DriverLibrary> library;
  CudaDriverApi f{};
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
};

absl::StatusOr<std::unique_ptr<CudaApi>> CudaApi::open(int ordinal) {
  absl::StatusOr<std::unique_ptr<gpu::DriverLibrary>> library =
      gpu::DriverLibrary::open({kCudaDriverLibrary}, "LLAMAC_CUDA_DRIVER",
                               "no NVIDIA driver on this machine");
  if (!library.ok())
    return library.status();
  std::unique_ptr<CudaApi> api(new CudaApi(std::move(*library)));
  CudaDriverApi &f = api->f;
  if (absl::Status s = resolveAll(*api->library, f); !s.ok())
    return s;
  if (absl::Status s = api->check(f.cuInit(0), "cuInit"); !s.ok())
    return s;
  int count = 0;
  if (absl::Status s = api->check(f.cuDeviceGetCount(&count), "cuDeviceGetCount");
      !s.ok())
    return s;
  if (ordinal < 0 || ordinal >= count)
    return absl::NotFoundError(absl::StrCat(
        "no CUDA device ", ordinal, " (this machine has ", count, ")"));
  if (absl::Status s = api->check(f.cuDeviceGet(&api->device, ordinal),
                                  "cuDeviceGet");
      !s.ok())
    return s;
  // The primary context is the one the CUDA runtime and other libraries in
  // the process share, so we do not compete with them for device memory.
  CUcontext context = nullptr;
  if (absl::Status s = api->check(
          f.cuDevicePrimaryCtxRetain(&context, api->device),
          "cuDevicePrimaryCtxRetain");
      !s.ok())
    return s;
  api->context = context;
  if (absl::Status s = api->check(f.cuCtxSetCurrent(context), "cuCtxSetCurrent");
      !s.ok())
    return s;
  // Non-blocking: the stream does not wait for other work on the legacy
  // default stream.
  if (absl::Status s = api->check(
          f.cuStreamCreate(&api->stream, CU_STREAM_NON_BLOCKING),
          "cuStreamCreate");
      !s.ok())
    return s;
  return api;
}

} // namespace

absl::StatusOr<std::unique_ptr<Device>> openCudaDevice(int ordinal) {
  return gpu::GpuDevice::open(CudaApi::open(ordinal));
}

} // namespace llamac::hal::cuda
