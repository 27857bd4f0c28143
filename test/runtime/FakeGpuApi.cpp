//===- FakeGpuApi.cpp - a GPU driver API in host memory -------------------===//

#include "test/runtime/FakeGpuApi.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include <cstring>

namespace llamac::test {

void FakeGpuApi::addKernel(const std::string &name, int params,
                           std::function<void(const Params &)> body) {
  kernels[name] = Kernel{name, params, std::move(body)};
}

absl::StatusOr<void *> FakeGpuApi::allocate(uint64_t bytes) {
  char *p = new char[bytes];
  // Garbage, so that a missing fillZero shows.
  std::memset(p, 0xab, bytes);
  allocations.insert(p);
  return static_cast<void *>(p);
}

void FakeGpuApi::release(void *address) {
  char *p = static_cast<char *>(address);
  allocations.erase(p);
  delete[] p;
}

absl::Status FakeGpuApi::fillZero(void *dst, uint64_t bytes) {
  std::memset(dst, 0, bytes);
  return absl::OkStatus();
}

absl::Status FakeGpuApi::copyHostToDevice(void *dst, const void *src,
                                          uint64_t bytes) {
  std::memcpy(dst, src, bytes);
  return absl::OkStatus();
}

absl::Status FakeGpuApi::copyDeviceToHost(void *dst, const void *src,
                                          uint64_t bytes) {
  std::memcpy(dst, src, bytes);
  return absl::OkStatus();
}

absl::Status FakeGpuApi::copyDeviceToDevice(void *dst, const void *src,
                                            uint64_t bytes) {
  std::memmove(dst, src, bytes);
  return absl::OkStatus();
}

absl::StatusOr<void *> FakeGpuApi::loadModule(const void *image,
                                              bool *wrongArchitecture) {
  const char *text = static_cast<const char *>(image);
  lastImage = std::string(text, strnlen(text, 16));
  *wrongArchitecture = false;
  if (absl::StartsWith(lastImage, "\x7f"
                                  "ELF")) {
    if (refuseCubin) {
      *wrongArchitecture = true;
      return absl::InternalError(
          "cuModuleLoadData: CUDA_ERROR_NO_BINARY_FOR_GPU: no kernel image is "
          "available for execution on the device");
    }
  } else if (absl::StartsWith(lastImage, ".version")) {
    if (refusePtx)
      return absl::InternalError(
          "cuModuleLoadData: CUDA_ERROR_INVALID_PTX: a PTX JIT compilation "
          "failed");
  } else {
    return absl::InternalError(
        "cuModuleLoadData: CUDA_ERROR_INVALID_IMAGE: device kernel image is "
        "invalid");
  }
  ++liveModules;
  return static_cast<void *>(&kernels);
}

absl::StatusOr<void *> FakeGpuApi::getFunction(void *, const std::string &name) {
  auto it = kernels.find(name);
  if (it == kernels.end())
    return absl::InternalError(
        "cuModuleGetFunction: CUDA_ERROR_NOT_FOUND: named symbol not found");
  return static_cast<void *>(&it->second);
}

absl::Status FakeGpuApi::launch(void *function, const hal::LaunchDims &dims,
                                void **params) {
  const Kernel *kernel = static_cast<const Kernel *>(function);
  if (kernel->name == failLaunchOf)
    return absl::InternalError(
        "cuLaunchKernel: CUDA_ERROR_INVALID_VALUE: invalid argument");
  Launch l{kernel, dims, {}};
  for (int i = 0; i < kernel->params; ++i) {
    uint64_t v;
    std::memcpy(&v, params[i], sizeof(v));
    l.params.push_back(v);
  }
  if (capturing) {
    captured.push_back(std::move(l));
    return absl::OkStatus();
  }
  if (kernel->body)
    kernel->body(l.params);
  directLaunches.push_back(std::move(l));
  return absl::OkStatus();
}

absl::Status FakeGpuApi::beginCapture() {
  capturing = true;
  captured.clear();
  return absl::OkStatus();
}

absl::StatusOr<void *> FakeGpuApi::endCapture() {
  capturing = false;
  ++captures;
  ++liveGraphs;
  return static_cast<void *>(new std::vector<Launch>(std::move(captured)));
}

absl::Status FakeGpuApi::launchGraph(void *graph) {
  ++graphLaunches;
  for (const Launch &l : *static_cast<std::vector<Launch> *>(graph))
    if (l.kernel->body)
      l.kernel->body(l.params);
  return absl::OkStatus();
}

void FakeGpuApi::destroyGraph(void *graph) {
  --liveGraphs;
  delete static_cast<std::vector<Launch> *>(graph);
}

absl::StatusOr<double>
FakeGpuApi::timeOnStream(absl::FunctionRef<absl::Status()> enqueue) {
  if (absl::Status s = enqueue(); !s.ok())
    return s;
  return 2.5;
}

} // namespace llamac::test
