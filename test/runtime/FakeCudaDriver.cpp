//===- FakeCudaDriver.cpp - a libcuda.so.1 stand-in over host memory ------===//
//
// Test double for the CUDA driver library, loaded through LLAMAC_CUDA_DRIVER
// by llama-run processes under mpirun (test/tools/llama-run-tensor-parallel-
// gpu.test), so that a GPU tensor-parallel run's start-up, agreement on
// errors and NCCL bootstrap run on machines with no GPU. "Device memory" is
// zeroed host memory, copies are memcpy, modules and functions are tokens,
// kernels do nothing: it computes nothing, and no test reads its tokens as
// model output. LLAMAC_FAKE_CUDA_FAIL_RANK=<r> makes cuInit fail as on a
// machine without a GPU in the process whose MPI rank is r.
//
//===----------------------------------------------------------------------===//

#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace {

constexpr int kSuccess = 0;
constexpr int kNoDevice = 100; // CUDA_ERROR_NO_DEVICE
int token;                     // what handles point at

int mpiRank() {
  for (const char *name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK"})
    if (const char *value = std::getenv(name))
      return std::atoi(value);
  return 0;
}

} // namespace

extern "C" {

int cuInit(unsigned) {
  const char *failing = std::getenv("LLAMAC_FAKE_CUDA_FAIL_RANK");
  return failing && std::atoi(failing) == mpiRank() ? kNoDevice : kSuccess;
}
int cuGetErrorName(int result, const char **name) {
  *name = result == kNoDevice ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_UNKNOWN";
  return kSuccess;
}
int cuGetErrorString(int result, const char **text) {
  *text = result == kNoDevice ? "no CUDA-capable device is detected" : "unknown error";
  return kSuccess;
}
int cuDeviceGetCount(int *count) {
  *count = 4;
  return kSuccess;
}
int cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return kSuccess;
}
int cuDeviceGetName(char *name, int length, int) {
  std::strncpy(name, "fake GPU", static_cast<size_t>(length));
  return kSuccess;
}
int cuDevicePrimaryCtxRetain(void **context, int) {
  *context = &token;
  return kSuccess;
}
int cuDevicePrimaryCtxRelease_v2(int) { return kSuccess; }
int cuCtxSetCurrent(void *) { return kSuccess; }
int cuMemAlloc_v2(unsigned long long *address, size_t bytes) {
  size_t rounded = (bytes + 255) / 256 * 256;
  void *p = std::aligned_alloc(256, rounded == 0 ? 256 : rounded);
  if (!p)
    return 2; // CUDA_ERROR_OUT_OF_MEMORY
  std::memset(p, 0, rounded);
  *address = reinterpret_cast<unsigned long long>(p);
  return kSuccess;
}
int cuMemFree_v2(unsigned long long address) {
  std::free(reinterpret_cast<void *>(address));
  return kSuccess;
}
int cuMemsetD8Async(unsigned long long dst, unsigned char value, size_t bytes, void *) {
  std::memset(reinterpret_cast<void *>(dst), value, bytes);
  return kSuccess;
}
int cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t bytes, void *) {
  std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  return kSuccess;
}
int cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t bytes, void *) {
  std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
  return kSuccess;
}
int cuMemcpyDtoDAsync_v2(unsigned long long dst, unsigned long long src, size_t bytes, void *) {
  std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), bytes);
  return kSuccess;
}
int cuStreamCreate(void **stream, unsigned) {
  *stream = &token;
  return kSuccess;
}
int cuStreamDestroy_v2(void *) { return kSuccess; }
int cuStreamSynchronize(void *) { return kSuccess; }
int cuModuleLoadData(void **module, const void *) {
  *module = &token;
  return kSuccess;
}
int cuModuleUnload(void *) { return kSuccess; }
int cuModuleGetFunction(void **function, void *, const char *) {
  *function = &token;
  return kSuccess;
}
int cuFuncSetAttribute(void *, int, int) { return kSuccess; }
int cuLaunchKernel(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                   void *, void **, void **) {
  return kSuccess;
}
int cuStreamBeginCapture_v2(void *, int) { return kSuccess; }
int cuStreamEndCapture(void *, void **graph) {
  *graph = &token;
  return kSuccess;
}
int cuGraphInstantiateWithFlags(void **exec, void *, unsigned long long) {
  *exec = &token;
  return kSuccess;
}
int cuGraphLaunch(void *, void *) { return kSuccess; }
int cuGraphExecDestroy(void *) { return kSuccess; }
int cuGraphDestroy(void *) { return kSuccess; }
int cuEventCreate(void **event, unsigned) {
  *event = &token;
  return kSuccess;
}
int cuEventRecord(void *, void *) { return kSuccess; }
int cuEventSynchronize(void *) { return kSuccess; }
int cuEventElapsedTime(float *ms, void *, void *) {
  *ms = 0.001f;
  return kSuccess;
}
int cuEventDestroy_v2(void *) { return kSuccess; }

} // extern "C"
