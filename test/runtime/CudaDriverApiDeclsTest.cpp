//===- CudaDriverApiDeclsTest.cpp - CudaDriverApi.h against cuda.h --------===//
//
// The CUDA driver declares the driver API itself (CudaDriverApi.h) so that it
// builds without the toolkit. Where the toolkit is installed, this file
// compares those declarations with NVIDIA's cuda.h at compile time: a wrong
// declaration, symbol or constant is a build error naming it. Elsewhere the
// test skips with the reason.
//
// The check is on symbols, not on names in the documentation: libcuda exports
// each changed call under its old name with its old ABI (cuMemAlloc with a
// 32-bit size) and the new one with a suffix (cuMemAlloc_v2), and the driver
// resolves the suffixed ones. cuda.h normally hides this with macros
// (#define cuMemAlloc cuMemAlloc_v2); __CUDA_API_VERSION_INTERNAL, the mode
// libcuda itself is built in, removes those macros and declares every export
// under its own name with its own ABI, so `&::symbol` below is the function
// dlsym returns for "symbol".
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/drivers/cuda/CudaDevice.h"
#include "runtime/hal/drivers/cuda/CudaDriverApi.h"
#include "test/runtime/SameAbi.h"

#include "absl/strings/match.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#ifdef LLAMAC_CUDA_H
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>

namespace ours = llamac::hal::cuda;

namespace llamac::test {
template <> struct VendorType<ours::CUctx_st> { using type = ::CUctx_st; };
template <> struct VendorType<ours::CUstream_st> {
  using type = ::CUstream_st;
};
template <> struct VendorType<ours::CUmod_st> { using type = ::CUmod_st; };
template <> struct VendorType<ours::CUfunc_st> { using type = ::CUfunc_st; };
template <> struct VendorType<ours::CUgraph_st> { using type = ::CUgraph_st; };
template <> struct VendorType<ours::CUgraphExec_st> {
  using type = ::CUgraphExec_st;
};
template <> struct VendorType<ours::CUevent_st> { using type = ::CUevent_st; };
} // namespace llamac::test

namespace {

using llamac::test::kSameSignature;
using llamac::test::kSameType;

static_assert(kSameType<ours::CUresult, ::CUresult>);
static_assert(kSameType<ours::CUdevice, ::CUdevice>);
static_assert(kSameType<ours::CUdeviceptr, ::CUdeviceptr>);
static_assert(kSameType<ours::CUcontext, ::CUcontext>);
static_assert(kSameType<ours::CUstream, ::CUstream>);
static_assert(kSameType<ours::CUmodule, ::CUmodule>);
static_assert(kSameType<ours::CUfunction, ::CUfunction>);
static_assert(kSameType<ours::CUgraph, ::CUgraph>);
static_assert(kSameType<ours::CUgraphExec, ::CUgraphExec>);
static_assert(kSameType<ours::CUevent, ::CUevent>);

#define LLAMAC_SAME_VALUE(name)                                                \
  static_assert(ours::name == ::name, #name " differs from cuda.h's");
LLAMAC_SAME_VALUE(CUDA_SUCCESS)
LLAMAC_SAME_VALUE(CUDA_ERROR_INVALID_IMAGE)
LLAMAC_SAME_VALUE(CUDA_ERROR_NO_BINARY_FOR_GPU)
LLAMAC_SAME_VALUE(CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
LLAMAC_SAME_VALUE(CU_STREAM_NON_BLOCKING)
LLAMAC_SAME_VALUE(CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
LLAMAC_SAME_VALUE(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
LLAMAC_SAME_VALUE(CU_EVENT_DEFAULT)
#undef LLAMAC_SAME_VALUE

// Each symbol the driver resolves, against the export of that name.
#define LLAMAC_SAME_SIGNATURE(member, symbol)                                  \
  static_assert(kSameSignature<ours::PFN_##member, decltype(&::symbol)>,       \
                "PFN_" #member " does not call " #symbol                       \
                " as cuda.h declares it");
LLAMAC_CUDA_DRIVER_ENTRY_POINTS(LLAMAC_SAME_SIGNATURE)
#undef LLAMAC_SAME_SIGNATURE

// The mistake this file is for: the unversioned export of a changed call
// has the old ABI, so resolving it for our declaration must fail the check.
static_assert(!kSameSignature<ours::PFN_cuMemAlloc, decltype(&::cuMemAlloc)>);
static_assert(!kSameSignature<ours::PFN_cuStreamBeginCapture,
                              decltype(&::cuStreamBeginCapture)>);
static_assert(!kSameSignature<ours::PFN_cuGraphInstantiateWithFlags,
                              decltype(&::cuGraphInstantiate)>);

} // namespace
#endif // LLAMAC_CUDA_H

namespace {

TEST(CudaDriverApiDeclsTest, MatchCudaH) {
#ifdef LLAMAC_CUDA_H
  // The checks ran when this file compiled.
  RecordProperty("cuda_h", LLAMAC_CUDA_H);
  RecordProperty("cuda_version", CUDA_VERSION);
#else
  GTEST_SKIP() << "no cuda.h when llamac was configured (looked in "
                  "$CUDA_HOME, $CUDA_PATH, /usr/local/cuda and the system "
                  "include path): CudaDriverApi.h was not compared with "
                  "NVIDIA's declarations";
#endif
}

TEST(CudaDriverApiDeclsTest, TheInstalledDriverExportsEverySymbol) {
  // The driver resolves every symbol before its first call. (The toolkit's
  // stub library, with no driver behind it: DeviceChoiceTest.)
  absl::StatusOr<std::unique_ptr<llamac::hal::Device>> device =
      llamac::hal::cuda::openCudaDevice();
  if (device.ok())
    return;
  std::string message(device.status().message());
  if (absl::StrContains(message, " not found ("))
    GTEST_SKIP() << "no NVIDIA driver on this machine: " << message;
  EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr(" has no ")));
}

} // namespace
