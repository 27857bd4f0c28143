//===- HipDriverApi.h - the HIP runtime API calls we use --------*- C++ -*-===//
//
// Our own declarations of the few libamdhip64.so entry points the HIP device
// calls, as function-pointer types, so that building needs no ROCm. Types
// and values follow HIP's ABI, the same from ROCm 5 to 7 for these calls;
// HIP mirrors the CUDA driver API, error codes included.
// test/runtime/HipDriverApiDeclsTest.cpp compares them with
// hip/hip_runtime_api.h where the header is installed.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_HIP_HIPDRIVERAPI_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_HIP_HIPDRIVERAPI_H

#include <cstddef>

namespace llamac::hal::hip {

using hipError_t = int;
using hipDevice_t = int;
using hipDeviceptr_t = void *;
using hipStream_t = struct ihipStream_t *;
using hipModule_t = struct ihipModule_t *;
using hipFunction_t = struct ihipModuleSymbol_t *;
using hipGraph_t = struct ihipGraph *;
using hipGraphExec_t = struct hipGraphExec *;
using hipEvent_t = struct ihipEvent_t *;

inline constexpr hipError_t hipSuccess = 0;
inline constexpr hipError_t hipErrorInvalidImage = 200;
inline constexpr hipError_t hipErrorNoBinaryForGpu = 209;
inline constexpr unsigned hipStreamNonBlocking = 1;
inline constexpr int hipStreamCaptureModeThreadLocal = 1;

using PFN_hipInit = hipError_t (*)(unsigned flags);
using PFN_hipGetErrorName = const char *(*)(hipError_t);
using PFN_hipGetErrorString = const char *(*)(hipError_t);
using PFN_hipGetDeviceCount = hipError_t (*)(int *);
using PFN_hipSetDevice = hipError_t (*)(int);
using PFN_hipMalloc = hipError_t (*)(void **, size_t);
using PFN_hipFree = hipError_t (*)(void *);
using PFN_hipMemsetAsync = hipError_t (*)(void *, int, size_t, hipStream_t);
/// ROCm 7 made the source const (before: void *); the ABI is the same.
using PFN_hipMemcpyHtoDAsync = hipError_t (*)(hipDeviceptr_t, const void *,
                                              size_t, hipStream_t);
using PFN_hipMemcpyDtoHAsync = hipError_t (*)(void *, hipDeviceptr_t, size_t,
                                              hipStream_t);
using PFN_hipMemcpyDtoDAsync = hipError_t (*)(hipDeviceptr_t, hipDeviceptr_t,
                                              size_t, hipStream_t);
using PFN_hipStreamCreateWithFlags = hipError_t (*)(hipStream_t *,
                                                    unsigned flags);
using PFN_hipStreamDestroy = hipError_t (*)(hipStream_t);
using PFN_hipStreamSynchronize = hipError_t (*)(hipStream_t);
using PFN_hipModuleLoadData = hipError_t (*)(hipModule_t *, const void *);
using PFN_hipModuleUnload = hipError_t (*)(hipModule_t);
using PFN_hipModuleGetFunction = hipError_t (*)(hipFunction_t *, hipModule_t,
                                                const char *);
using PFN_hipModuleLaunchKernel =
    hipError_t (*)(hipFunction_t, unsigned gridX, unsigned gridY,
                   unsigned gridZ, unsigned blockX, unsigned blockY,
                   unsigned blockZ, unsigned sharedBytes, hipStream_t,
                   void **params, void **extra);
using PFN_hipStreamBeginCapture = hipError_t (*)(hipStream_t, int mode);
using PFN_hipStreamEndCapture = hipError_t (*)(hipStream_t, hipGraph_t *);
using PFN_hipGraphInstantiateWithFlags =
    hipError_t (*)(hipGraphExec_t *, hipGraph_t, unsigned long long flags);
using PFN_hipGraphLaunch = hipError_t (*)(hipGraphExec_t, hipStream_t);
using PFN_hipGraphExecDestroy = hipError_t (*)(hipGraphExec_t);
using PFN_hipGraphDestroy = hipError_t (*)(hipGraph_t);
using PFN_hipEventCreate = hipError_t (*)(hipEvent_t *);
using PFN_hipEventRecord = hipError_t (*)(hipEvent_t, hipStream_t);
using PFN_hipEventSynchronize = hipError_t (*)(hipEvent_t);
using PFN_hipEventElapsedTime = hipError_t (*)(float *ms, hipEvent_t,
                                               hipEvent_t);
using PFN_hipEventDestroy = hipError_t (*)(hipEvent_t);

/// Every entry point as X(name): the HipDriverApi member and the symbol
/// dlsym resolves it from (HIP exports each call under its own name).
#define LLAMAC_HIP_DRIVER_ENTRY_POINTS(X)                                      \
  X(hipInit)                                                                   \
  X(hipGetErrorName)                                                           \
  X(hipGetErrorString)                                                         \
  X(hipGetDeviceCount)                                                         \
  X(hipSetDevice)                                                              \
  X(hipMalloc)                                                                 \
  X(hipFree)                                                                   \
  X(hipMemsetAsync)                                                            \
  X(hipMemcpyHtoDAsync)                                                        \
  X(hipMemcpyDtoHAsync)                                                        \
  X(hipMemcpyDtoDAsync)                                                        \
  X(hipStreamCreateWithFlags)                                                  \
  X(hipStreamDestroy)                                                          \
  X(hipStreamSynchronize)                                                      \
  X(hipModuleLoadData)                                                         \
  X(hipModuleUnload)                                                           \
  X(hipModuleGetFunction)                                                      \
  X(hipModuleLaunchKernel)                                                     \
  X(hipStreamBeginCapture)                                                     \
  X(hipStreamEndCapture)                                                       \
  X(hipGraphInstantiateWithFlags)                                              \
  X(hipGraphLaunch)                                                            \
  X(hipGraphExecDestroy)                                                       \
  X(hipGraphDestroy)                                                           \
  X(hipEventCreate)                                                            \
  X(hipEventRecord)                                                            \
  X(hipEventSynchronize)                                                       \
  X(hipEventElapsedTime)                                                       \
  X(hipEventDestroy)

/// Every entry point, resolved from the library.
struct HipDriverApi {
#define LLAMAC_HIP_MEMBER(name) PFN_##name name;
  LLAMAC_HIP_DRIVER_ENTRY_POINTS(LLAMAC_HIP_MEMBER)
#undef LLAMAC_HIP_MEMBER
};

} // namespace llamac::hal::hip

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_HIP_HIPDRIVERAPI_H
