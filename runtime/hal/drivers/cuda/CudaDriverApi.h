//===- CudaDriverApi.h - the CUDA driver API calls we use -------*- C++ -*-===//
//
// Our own declarations of the few libcuda.so.1 entry points the CUDA device
// calls, as function-pointer types, so that building needs no CUDA toolkit
// (cuda.h is not included anywhere). Types and values follow the CUDA driver
// API's ABI, which NVIDIA keeps stable; symbol names are the versioned ones
// cuda.h maps its calls to (cuMemAlloc -> cuMemAlloc_v2, ...), since dlsym
// sees the library's exports, not the header's macros.
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

/// Every entry point, resolved from the library.
struct CudaDriverApi {
  PFN_cuInit cuInit;
  PFN_cuGetErrorName cuGetErrorName;
  PFN_cuGetErrorString cuGetErrorString;
  PFN_cuDeviceGetCount cuDeviceGetCount;
  PFN_cuDeviceGet cuDeviceGet;
  PFN_cuDeviceGetName cuDeviceGetName;
  PFN_cuDevicePrimaryCtxRetain cuDevicePrimaryCtxRetain;
  PFN_cuDevicePrimaryCtxRelease cuDevicePrimaryCtxRelease;
  PFN_cuCtxSetCurrent cuCtxSetCurrent;
  PFN_cuMemAlloc cuMemAlloc;
  PFN_cuMemFree cuMemFree;
  PFN_cuMemsetD8Async cuMemsetD8Async;
  PFN_cuMemcpyHtoDAsync cuMemcpyHtoDAsync;
  PFN_cuMemcpyDtoHAsync cuMemcpyDtoHAsync;
  PFN_cuMemcpyDtoDAsync cuMemcpyDtoDAsync;
  PFN_cuStreamCreate cuStreamCreate;
  PFN_cuStreamDestroy cuStreamDestroy;
  PFN_cuStreamSynchronize cuStreamSynchronize;
  PFN_cuModuleLoadData cuModuleLoadData;
  PFN_cuModuleUnload cuModuleUnload;
  PFN_cuModuleGetFunction cuModuleGetFunction;
  PFN_cuFuncSetAttribute cuFuncSetAttribute;
  PFN_cuLaunchKernel cuLaunchKernel;
  PFN_cuStreamBeginCapture cuStreamBeginCapture;
  PFN_cuStreamEndCapture cuStreamEndCapture;
  PFN_cuGraphInstantiateWithFlags cuGraphInstantiateWithFlags;
  PFN_cuGraphLaunch cuGraphLaunch;
  PFN_cuGraphExecDestroy cuGraphExecDestroy;
  PFN_cuGraphDestroy cuGraphDestroy;
  PFN_cuEventCreate cuEventCreate;
  PFN_cuEventRecord cuEventRecord;
  PFN_cuEventSynchronize cuEventSynchronize;
  PFN_cuEventElapsedTime cuEventElapsedTime;
  PFN_cuEventDestroy cuEventDestroy;
};

} // namespace llamac::hal::cuda

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_CUDA_CUDADRIVERAPI_H
