//===- NcclApi.h - the NCCL / RCCL calls we use -----------------*- C++ -*-===//
//
// Our own declarations of the few entry points of libnccl.so.2 (NVIDIA) and
// librccl.so.1 (AMD, which exports NCCL's API under the same names) that
// NcclCommunicator calls, as function-pointer types, so that building needs
// neither library nor header: both are dlopen'ed when a GPU tensor-parallel
// run starts. Types and values follow nccl.h's C ABI;
// test/runtime/NcclApiDeclsTest.cpp compares them with the CUDA toolkit's
// nccl.h where it is installed.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_COMM_NCCLAPI_H
#define LLAMAC_RUNTIME_COMM_NCCLAPI_H

#include <cstddef>

namespace llamac::comm::nccl {

using ncclResult_t = int;
using ncclComm_t = struct ncclComm *;
/// A CUstream (NCCL) or hipStream_t (RCCL): the device's stream.
using gpuStream_t = struct GpuStream *;
using ncclDataType_t = int;
using ncclRedOp_t = int;

/// NCCL_UNIQUE_ID_BYTES (a macro in nccl.h).
inline constexpr size_t kUniqueIdBytes = 128;
/// Passed by value to ncclCommInitRank, as nccl.h's struct is.
struct ncclUniqueId {
  char internal[kUniqueIdBytes];
};

inline constexpr ncclResult_t ncclSuccess = 0;
inline constexpr ncclDataType_t ncclFloat32 = 7;
inline constexpr ncclRedOp_t ncclSum = 0;

using PFN_ncclGetVersion = ncclResult_t (*)(int *version);
using PFN_ncclGetUniqueId = ncclResult_t (*)(ncclUniqueId *uniqueId);
using PFN_ncclCommInitRank = ncclResult_t (*)(ncclComm_t *comm, int nranks,
                                              ncclUniqueId commId, int rank);
using PFN_ncclAllReduce = ncclResult_t (*)(const void *sendbuff, void *recvbuff,
                                           size_t count, ncclDataType_t datatype,
                                           ncclRedOp_t op, ncclComm_t comm,
                                           gpuStream_t stream);
using PFN_ncclAllGather = ncclResult_t (*)(const void *sendbuff, void *recvbuff,
                                           size_t sendcount, ncclDataType_t datatype,
                                           ncclComm_t comm, gpuStream_t stream);
using PFN_ncclGroupStart = ncclResult_t (*)();
using PFN_ncclGroupEnd = ncclResult_t (*)();
using PFN_ncclCommDestroy = ncclResult_t (*)(ncclComm_t comm);
using PFN_ncclGetErrorString = const char *(*)(ncclResult_t result);

/// Every entry point as X(name): the NcclApi member and the exported symbol
/// (NCCL has no versioned exports for these).
#define LLAMAC_NCCL_ENTRY_POINTS(X)                                            \
  X(ncclGetVersion)                                                            \
  X(ncclGetUniqueId)                                                           \
  X(ncclCommInitRank)                                                          \
  X(ncclAllReduce)                                                             \
  X(ncclAllGather)                                                             \
  X(ncclGroupStart)                                                            \
  X(ncclGroupEnd)                                                              \
  X(ncclCommDestroy)                                                           \
  X(ncclGetErrorString)

/// Every entry point, resolved from the library.
struct NcclApi {
#define LLAMAC_NCCL_MEMBER(name) PFN_##name name;
  LLAMAC_NCCL_ENTRY_POINTS(LLAMAC_NCCL_MEMBER)
#undef LLAMAC_NCCL_MEMBER
};

} // namespace llamac::comm::nccl

#endif // LLAMAC_RUNTIME_COMM_NCCLAPI_H
