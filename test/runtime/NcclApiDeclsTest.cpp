//===- NcclApiDeclsTest.cpp - NcclApi.h against nccl.h --------------------===//
//
// NcclCommunicator declares NCCL's calls itself (NcclApi.h) so that it
// builds without NCCL. Where nccl.h is installed (it ships with the CUDA
// toolkit here), this file compares those declarations with it at compile
// time: a wrong signature, type or constant is a build error naming it.
// Elsewhere the test skips with the reason. RCCL declares the same API
// (rccl.h); where it is installed it is checked the same way.
//
//===----------------------------------------------------------------------===//

#include "runtime/comm/NcclApi.h"
#include "test/runtime/SameAbi.h"

#include <gtest/gtest.h>

#ifdef LLAMAC_NCCL_H
#include <nccl.h>

namespace ours = llamac::comm::nccl;

namespace llamac::test {
template <> struct VendorType<ours::ncclComm> { using type = ::ncclComm; };
template <> struct VendorType<ours::GpuStream> { using type = ::CUstream_st; };
template <> struct VendorType<ours::ncclUniqueId> { using type = ::ncclUniqueId; };
} // namespace llamac::test

namespace {

using llamac::test::kSameSignature;
using llamac::test::kSameType;

static_assert(kSameType<ours::ncclResult_t, ::ncclResult_t>);
static_assert(kSameType<ours::ncclComm_t, ::ncclComm_t>);
static_assert(kSameType<ours::gpuStream_t, ::cudaStream_t>);
static_assert(kSameType<ours::ncclDataType_t, ::ncclDataType_t>);
static_assert(kSameType<ours::ncclRedOp_t, ::ncclRedOp_t>);
static_assert(sizeof(ours::ncclUniqueId) == sizeof(::ncclUniqueId) &&
              alignof(ours::ncclUniqueId) == alignof(::ncclUniqueId));

static_assert(ours::kUniqueIdBytes == NCCL_UNIQUE_ID_BYTES);
#define LLAMAC_SAME_VALUE(name)                                                \
  static_assert(ours::name == ::name, #name " differs from nccl.h's");
LLAMAC_SAME_VALUE(ncclSuccess)
LLAMAC_SAME_VALUE(ncclFloat32)
LLAMAC_SAME_VALUE(ncclSum)
#undef LLAMAC_SAME_VALUE

#define LLAMAC_SAME_SIGNATURE(name)                                            \
  static_assert(kSameSignature<ours::PFN_##name, decltype(&::name)>,           \
                "PFN_" #name " does not call " #name " as nccl.h declares it");
LLAMAC_NCCL_ENTRY_POINTS(LLAMAC_SAME_SIGNATURE)
#undef LLAMAC_SAME_SIGNATURE

// What the check is for: a swapped or missing argument must fail it.
static_assert(!kSameSignature<ours::PFN_ncclCommInitRank, decltype(&::ncclCommInitRankConfig)>);
static_assert(!kSameSignature<ours::PFN_ncclAllReduce, decltype(&::ncclReduce)>);

} // namespace
#endif // LLAMAC_NCCL_H

namespace {

TEST(NcclApiDeclsTest, MatchNcclH) {
#ifdef LLAMAC_NCCL_H
  // The checks ran when this file compiled.
  RecordProperty("nccl_h", LLAMAC_NCCL_H);
  RecordProperty("nccl_version", NCCL_VERSION_CODE);
#else
  GTEST_SKIP() << "no nccl.h when llamac was configured (looked in $CUDA_HOME, "
                  "$CUDA_PATH, /usr/local/cuda and the system include path): "
                  "NcclApi.h was not compared with NCCL's declarations";
#endif
}

} // namespace
