//===- CudaDriverApi.h - the CUDA driver API calls we use -------*- C++ -*-===//
//
// Our own declarations of the few libcuda.so.1 entry points the CUDA device
// calls, as function-pointer types, so that building needs no CUDA toolkit.
// Types and values follow the CUDA driver API's ABI, which NVIDIA keeps
// stable; the symbols are the library's exports of that ABI, often not the
// names cuda.h's macros make of the calls (LLAMAC_CUDA_DRIVER_ENTRY_POINTS).
// test/runtime/CudaDriverApiDeclsTest.cpp compares all of it with cuda.h
// where the toolkit is installed.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_CUDA_CUDADRIVERAPI_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_CUDA_CUDADRIVERAPI_H

#include <cstddef>

namespace llamac::hal::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUstream = struct CUstream_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;
using CUevent = struct CUevent_st *;

inline constexpr CUresult CUDA_SUCCESS = 0;
inline constexpr CUresult CUDA_ERROR_INVALID_IMAGE = 200;
inline constexpr CUresult CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
inline constexpr CUresult CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
inline constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
inline constexpr int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
inline constexpr unsigned CU_EVENT_DEFAULT = 0;

using PFN_cuInit = CUresult (*)(unsigned flags);
using PFN_cuGetErrorName = CUresult (*)(CUresult, const char **);
using PFN_cuGetErrorString = CUresult (*)(CUresult, const char **);
using PFN_cuDeviceGetCount = CUresult (*)(int *);
using PFN_cuDeviceGet = CUresult (*)(CUdevice *, int ordinal);
using PFN_cuDeviceGetName = CUresult (*)(char *, int, CUdevice);
using PFN_cuDevicePrimaryCtxRetain = CUresult (*)(CUcontext *, CUdevice);
using PFN_cuDevicePrimaryCtxRelease = CUresult (*)(CUdevice);
using PFN_cuCtxSetCurrent = CUresult (*)(CUcontext);
using PFN_cuMemAlloc = CUresult (*)(CUdeviceptr *, size_t);
using PFN_cuMemFree = CUresult (*)(CUdeviceptr);
using PFN_cuMemsetD8Async = CUresult (*)(CUdeviceptr, unsigned char, size_t,
                                         CUstream);
using PFN_cuMemcpyHtoDAsync = CUresult (*)(CUdeviceptr, const void *, size_t,
                                           CUstream);
using PFN_cuMemcpyDtoHAsync = CUresult (*)(void *, CUdeviceptr, size_t,
                                           CUstream);
using PFN_cuMemcpyDtoDAsync = CUresult (*)(CUdeviceptr, CUdeviceptr, size_t,
                                           CUstream);
using PFN_cuStreamCreate = CUresult (*)(CUstream *, unsigned flags);
using PFN_cuStreamDestroy = CUresult (*)(CUstream);
using PFN_cuStreamSynchronize = CUresult (*)(CUstream);
using PFN_cuModuleLoadData = CUresult (*)(CUmodule *, const void *image);
using PFN_cuModuleUnload = CUresult (*)(CUmodule);
using PFN_cuModuleGetFunction = CUresult (*)(CUfunction *, CUmodule,
                                             const char *);
using PFN_cuFuncSetAttribute = CUresult (*)(CUfunction, int attribute,
                                            int value);
using PFN_cuLaunchKernel = CUresult (*)(CUfunction, unsigned gridX,
                                        unsigned gridY, unsigned gridZ,
                                        unsigned blockX, unsigned blockY,
                                        unsigned blockZ, unsigned sharedBytes,
                                        CUstream, void **params, void **extra);
using PFN_cuStreamBeginCapture = CUresult (*)(CUstream, int mode);
using PFN_cuStreamEndCapture = CUresult (*)(CUstream, CUgraph *);
using PFN_cuGraphInstantiateWithFlags = CUresult (*)(CUgraphExec *, CUgraph,
                                                     unsigned long long flags);
using PFN_cuGraphLaunch = CUresult (*)(CUgraphExec, CUstream);
using PFN_cuGraphExecDestroy = CUresult (*)(CUgraphExec);
using PFN_cuGraphDestroy = CUresult (*)(CUgraph);
using PFN_cuEventCreate = CUresult (*)(CUevent *, unsigned flags);
using PFN_cuEventRecord = CUresult (*)(CUevent, CUstream);
using PFN_cuEventSynchronize = CUresult (*)(CUevent);
using PFN_cuEventElapsedTime = CUresult (*)(float *ms, CUevent, CUevent);
using PFN_cuEventDestroy = CUresult (*)(CUevent);

/// Every entry point as X(member, symbol): the CudaDriverApi member, named
/// as cuda.h names the call, and the export dlsym resolves it from. The
/// symbol must have the ABI of the member's PFN_ type: where a call changed,
/// libcuda keeps the old ABI under the old name (cuMemAlloc takes a 32-bit
/// size, cuStreamBeginCapture no mode, cuGraphInstantiate a log buffer).
/// cuEventElapsedTime stays unversioned: its _v2 (CUDA 12.8, what cuda.h
/// now maps to) has the same signature, and older drivers lack it.
#define LLAMAC_CUDA_DRIVER_ENTRY_POINTS(X)                                     \
  X(cuInit, cuInit)                                                            \
  X(cuGetErrorName, cuGetErrorName)                                            \
  X(cuGetErrorString, cuGetErrorString)                                        \
  X(cuDeviceGetCount, cuDeviceGetCount)                                        \
  X(cuDeviceGet, cuDeviceGet)                                                  \
  X(cuDeviceGetName, cuDeviceGetName)                                          \
  X(cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain)                        \
  X(cuDevicePrimaryCtxRelease, cuDevicePrimaryCtxRelease_v2)                   \
  X(cuCtxSetCurrent, cuCtxSetCurrent)                                          \
  X(cuMemAlloc, cuMemAlloc_v2)                                                 \
  X(cuMemFree, cuMemFree_v2)                                                   \
  X(cuMemsetD8Async, cuMemsetD8Async)                                          \
  X(cuMemcpyHtoDAsync, cuMemcpyHtoDAsync_v2)                                   \
  X(cuMemcpyDtoHAsync, cuMemcpyDtoHAsync_v2)                                   \
  X(cuMemcpyDtoDAsync, cuMemcpyDtoDAsync_v2)                                   \
  X(cuStreamCreate, cuStreamCreate)                                            \
  X(cuStreamDestroy, cuStreamDestroy_v2)                                       \
  X(cuStreamSynchronize, cuStreamSynchronize)                                  \
  X(cuModuleLoadData, cuModuleLoadData)                                        \
  X(cuModuleUnload, cuModuleUnload)                                            \
  X(cuModuleGetFunction, cuModuleGetFunction)                                  \
  X(cuFuncSetAttribute, cuFuncSetAttribute)                                    \
  X(cuLaunchKernel, cuLaunchKernel)                                            \
  X(cuStreamBeginCapture, cuStreamBeginCapture_v2)                             \
  X(cuStreamEndCapture, cuStreamEndCapture)                                    \
  X(cuGraphInstantiateWithFlags, cuGraphInstantiateWithFlags)                  \
  X(cuGraphLaunch, cuGraphLaunch)                                              \
  X(cuGraphExecDestroy, cuGraphExecDestroy)                                    \
  X(cuGraphDestroy, cuGraphDestroy)                                            \
  X(cuEventCreate, cuEventCreate)                                              \
  X(cuEventRecord, cuEventRecord)                                              \
  X(cuEventSynchronize, cuEventSynchronize)                                    \
  X(cuEventElapsedTime, cuEventElapsedTime)                                    \
  X(cuEventDestroy, cuEventDestroy_v2)

/// Every entry point, resolved from the library.
struct CudaDriverApi {
#define LLAMAC_CUDA_MEMBER(member, symbol) PFN_##member member;
  LLAMAC_CUDA_DRIVER_ENTRY_POINTS(LLAMAC_CUDA_MEMBER)
#undef LLAMAC_CUDA_MEMBER
};

} // namespace llamac::hal::cuda

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CUDA_CUDADRIVERAPI_H
