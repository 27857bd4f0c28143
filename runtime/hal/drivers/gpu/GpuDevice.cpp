//===- GpuDevice.cpp - a HAL device over a GPU driver API -----------------===//

#include "runtime/hal/drivers/gpu/GpuDevice.h"

#include "runtime/comm/Communicator.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>

namespace llamac::hal::gpu {

namespace {

/// Bytes of the {pos, rows} buffer: two int64.
constexpr uint64_t kPosRowsBytes = 16;
/// CUDA's dynamic shared memory limit without an opt-in.
constexpr uint32_t kDefaultSharedBytes = 48 * 1024;

class GpuBuffer : public Buffer {
public:
  GpuBuffer(GpuApi &api, void *address, uint64_t bytes)
      : api(api), address(address), bytes(bytes) {}
  ~GpuBuffer() override { api.release(address); }
  void *data() override { return address; }
  uint64_t size() const override { return bytes; }
  void *hostData() override { return nullptr; }

private:
  GpuApi &api;
  void *address;
  uint64_t bytes;
};

class GpuExecutable : public Executable {
public:
  GpuExecutable(GpuApi &api, void *module, std::string name)
      : api(api), module(module), name(std::move(name)) {}
  ~GpuExecutable() override { api.unloadModule(module); }

  absl::StatusOr<KernelHandle> lookup(absl::string_view kernel) const override {
    absl::StatusOr<void *> fn = api.getFunction(module, std::string(kernel));
    if (!fn.ok())
      return absl::NotFoundError(absl::StrCat(
          name, ": the code object has no kernel '", kernel,
          "' (used by the schedule): ", fn.status().message()));
    KernelHandle handle;
    handle.deviceFunction = *fn;
    return handle;
  }

private:
  GpuApi &api;
  void *module;
  std::string name;
};

/// A program's captured graph; destroyed with the program.
struct CapturedGraph {
  CapturedGraph(const GpuDevice *owner, GpuApi *api, void *graph)
      : owner(owner), api(api), graph(graph) {}
  ~CapturedGraph() { api->destroyGraph(graph); }
  CapturedGraph(const CapturedGraph &) = delete;
  CapturedGraph &operator=(const CapturedGraph &) = delete;

  const GpuDevice *owner;
  GpuApi *api;
  void *graph;
};

absl::Status withContext(const absl::Status &s, absl::string_view context) {
  if (s.ok())
    return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

} // namespace

absl::StatusOr<std::unique_ptr<GpuDevice>>
GpuDevice::create(std::unique_ptr<GpuApi> api) {
  std::unique_ptr<GpuDevice> device(new GpuDevice(std::move(api)));
  absl::StatusOr<void *> posRows = device->api->allocate(kPosRowsBytes);
  if (!posRows.ok())
    return posRows.status();
  device->posRows = *posRows;
  if (absl::Status s = device->api->fillZero(*posRows, kPosRowsBytes); !s.ok())
    return s;
  return device;
}

GpuDevice::~GpuDevice() {
  if (posRows)
    api->release(posRows);
}

absl::StatusOr<std::unique_ptr<Buffer>> GpuDevice::allocate(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(streamMutex);
  return allocateLocked(bytes);
}

absl::StatusOr<std::unique_ptr<Buffer>>
GpuDevice::allocateLocked(uint64_t bytes) {
  // Drivers refuse empty allocations; a zero-sized buffer still gets a
  // valid, distinct address.
  const uint64_t allocated = std::max<uint64_t>(bytes, 256);
  absl::StatusOr<void *> address = api->allocate(allocated);
  if (!address.ok())
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes, " bytes of ", name(),
                     " memory: ", address.status().message()));
  auto buffer = std::make_unique<GpuBuffer>(*api, *address, bytes);
  if (absl::Status s = api->fillZero(*address, allocated); !s.ok())
    return s;
  return std::unique_ptr<Buffer>(std::move(buffer));
}

absl::StatusOr<std::unique_ptr<Buffer>>
GpuDevice::importConstant(const void *host, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(streamMutex);
  absl::StatusOr<std::unique_ptr<Buffer>> buffer = allocateLocked(bytes);
  if (!buffer.ok())
    return buffer.status();
  if (absl::Status s = copyToDeviceLocked(**buffer, 0, host, bytes); !s.ok())
    return s;
  return buffer;
}

absl::Status GpuDevice::copyToDevice(Buffer &dst, uint64_t offset,
                                     const void *src, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(streamMutex);
  return copyToDeviceLocked(dst, offset, src, bytes);
}

absl::Status GpuDevice::copyToDeviceLocked(Buffer &dst, uint64_t offset,
                                           const void *src, uint64_t bytes) {
  if (absl::Status s = checkCopyRange(dst.size(), offset, bytes); !s.ok())
    return s;
  if (bytes == 0)
    return absl::OkStatus();
  return api->copyHostToDevice(static_cast<char *>(dst.data()) + offset, src,
                               bytes);
}

absl::Status GpuDevice::copyToHost(void *dst, Buffer &src, uint64_t offset,
                                   uint64_t bytes) {
  std::lock_guard<std::mutex> lock(streamMutex);
  if (absl::Status s = checkCopyRange(src.size(), offset, bytes); !s.ok())
    return s;
  if (bytes == 0)
    return absl::OkStatus();
  return api->copyDeviceToHost(
      dst, static_cast<const char *>(src.data()) + offset, bytes);
}

absl::StatusOr<std::unique_ptr<Executable>>
GpuDevice::loadExecutable(const ExecutableSource &source) {
  std::lock_guard<std::mutex> lock(streamMutex);
  if (source.format != api->codeFormat())
    return absl::InvalidArgumentError(absl::StrCat(
        source.name, ": the ", name(), " device cannot load kernels in '",
        source.format, "' format (it needs ", api->codeFormat(), ")"));
  // The drivers take a code object without its size and parse whatever they
  // are given (text as PTX, up to a NUL), so only an ELF image is passed.
  if (source.code.size() < 4 || source.code.substr(0, 4) != "\x7f"
                                                              "ELF")
    return absl::InvalidArgumentError(absl::StrCat(
        source.name, ": the kernels section is not an ELF code object"));
  bool wrongArchitecture = false;
  absl::StatusOr<void *> module =
      api->loadModule(source.code.data(), &wrongArchitecture);
  if (!module.ok() && wrongArchitecture && !source.ptx.empty()) {
    // The driver JIT-compiles PTX for this GPU; it needs a C string.
    std::string ptx(source.ptx);
    bool ignored = false;
    absl::StatusOr<void *> jitted = api->loadModule(ptx.c_str(), &ignored);
    if (!jitted.ok())
      return absl::FailedPreconditionError(absl::StrCat(
          source.name, ": the ", source.format,
          " is for another GPU and its PTX does not load either: ",
          jitted.status().message()));
    module = jitted;
  }
  if (!module.ok())
    return absl::FailedPreconditionError(
        absl::StrCat(source.name, ": cannot load the ", source.format,
                     " kernels: ", module.status().message()));
  return std::unique_ptr<Executable>(
      new GpuExecutable(*api, *module, source.name));
}

absl::Status GpuDevice::launch(const BoundDispatch &d, int64_t layer) {
  if (d.communicator)
    return enqueueCollective(d, layer);
  // Every parameter is 8 bytes: a device address or an int64. The driver
  // copies them at launch (and into the graph when capturing).
  uint64_t slots[kMaxKernelArgs];
  if (absl::Status s =
          gpuLaunchArgs(d, layer, reinterpret_cast<uint64_t>(posRows), name(), slots);
      !s.ok())
    return s;
  void *params[kMaxKernelArgs];
  for (size_t i = 0; i < d.args.size(); ++i)
    params[i] = &slots[i];
  if (d.launch.sharedBytes > kDefaultSharedBytes)
    if (absl::Status s =
            api->allowSharedBytes(d.deviceFunction, d.launch.sharedBytes);
        !s.ok())
      return withContext(s, absl::StrCat("kernel ", d.kernel));
  return withContext(api->launch(d.deviceFunction, d.launch, params),
                     absl::StrCat("kernel ", d.kernel, " (layer ", layer, ")"));
}

absl::Status GpuDevice::enqueueCollective(const BoundDispatch &d, int64_t layer) {
  // Tensor-parallel communication of device memory, on this stream between
  // the kernels that write and read it: NCCL or RCCL, never MPI (host
  // memory).
  const bool gather = d.collective == CollectiveKind::AllGatherColumns;
  const char *step = gather ? "all-gather" : "all-reduce";
  if (d.communicator->memory() != comm::Communicator::Memory::Device)
    return absl::FailedPreconditionError(
        absl::StrCat("the ", name(), " device's ", step,
                     " needs a GPU communicator (NCCL or RCCL), not ", d.communicator->name()));
  void *stream = api->nativeStream();
  return withContext(gather ? d.communicator->enqueueAllGatherColumns(
                                  d.gatherPart, d.gatherOut, d.gatherRows, d.gatherColumns,
                                  stream)
                            : d.communicator->enqueueAllReduceSum(d.reduceData, d.reduceCount,
                                                                  stream),
                     absl::StrCat(step, " (layer ", layer, ")"));
}

absl::Status GpuDevice::enqueue(const Program &program) {
  return forEachDispatch(program, [&](const BoundDispatch &d, int64_t layer) {
    return launch(d, layer);
  });
}

absl::StatusOr<void *> GpuDevice::graphFor(const Program &program) {
  if (program.driverState) {
    auto *captured = static_cast<CapturedGraph *>(program.driverState.get());
    if (captured->owner != this)
      return absl::FailedPreconditionError(
          "the program was captured on another device");
    return captured->graph;
  }
  if (absl::Status s = api->beginCapture(); !s.ok())
    return s;
  absl::Status enqueued = enqueue(program);
  // Capture must end even when a launch failed, or the stream stays in
  // capture mode and every later call fails.
  absl::StatusOr<void *> graph = api->endCapture();
  if (!enqueued.ok()) {
    if (graph.ok())
      api->destroyGraph(*graph);
    return enqueued;
  }
  if (!graph.ok())
    return graph.status();
  program.driverState =
      std::make_shared<CapturedGraph>(this, api.get(), *graph);
  return *graph;
}

absl::Status GpuDevice::run(const Program &program,
                            const Invocation &invocation) {
  if (program.beforeDispatch)
    return absl::UnimplementedError(
        "dispatch observers run on the cpu device only (they read host memory)");
  std::lock_guard<std::mutex> lock(streamMutex);
  // Ordered before the launches on the same stream; the kernels read it by
  // address, so the launches (and a captured graph) never change.
  const int64_t posRowsValues[2] = {invocation.pos, invocation.rows};
  if (absl::Status s =
          api->copyHostToDevice(posRows, posRowsValues, kPosRowsBytes);
      !s.ok())
    return s;
  if (program.captureAsGraph) {
    absl::StatusOr<void *> graph = graphFor(program);
    if (!graph.ok())
      return graph.status();
    if (absl::Status s = api->launchGraph(*graph); !s.ok())
      return s;
  } else if (absl::Status s = enqueue(program); !s.ok()) {
    return s;
  }
  return withContext(api->synchronize(), "running the schedule");
}

absl::StatusOr<double> GpuDevice::timedCopyMs(Buffer &dst, Buffer &src,
                                              uint64_t bytes) {
  std::lock_guard<std::mutex> lock(streamMutex);
  if (bytes > dst.size() || bytes > src.size())
    return absl::OutOfRangeError(
        absl::StrCat("a timed copy of ", bytes, " bytes does not fit the buffers"));
  return api->timeOnStream([&] {
    return api->copyDeviceToDevice(dst.data(), src.data(), bytes);
  });
}

} // namespace llamac::hal::gpu
