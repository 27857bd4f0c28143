//===- HipDriverApiDeclsTest.cpp - HipDriverApi.h against HIP's header ----===//
//
// The HIP driver declares the HIP runtime API itself (HipDriverApi.h) so that
// it builds without ROCm. Where hip/hip_runtime_api.h is installed (ROCm, or
// Debian's libamdhip64-dev), this file compares those declarations with it at
// compile time: a wrong declaration or constant is a build error naming it.
// Elsewhere the test skips with the reason. HIP exports each call under its
// plain name, so the header's declaration of that name is the export's ABI.
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/drivers/hip/HipDevice.h"
#include "runtime/hal/drivers/hip/HipDriverApi.h"
#include "test/runtime/SameAbi.h"

#include "absl/strings/match.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#ifdef LLAMAC_HIP_RUNTIME_API_H
// The host-only view of the header, as a C++ compiler other than hipcc sees
// it, without the C++ template overloads (hipMalloc(T **, ...)) that would make
// `&::hipMalloc` ambiguous.
#define __HIP_PLATFORM_AMD__ 1
#define __HIP_DISABLE_CPP_FUNCTIONS__ 1
#include <hip/hip_runtime_api.h>
#include <hip/hip_version.h>

// A macro in HIP's header, which would rewrite our constant's name: keep its
// value and drop the macro.
constexpr unsigned kTheirStreamNonBlocking = hipStreamNonBlocking;
#undef hipStreamNonBlocking

namespace ours = llamac::hal::hip;

namespace llamac::test {
template <> struct VendorType<ours::ihipStream_t> {
  using type = ::ihipStream_t;
};
template <> struct VendorType<ours::ihipModule_t> {
  using type = ::ihipModule_t;
};
template <> struct VendorType<ours::ihipModuleSymbol_t> {
  using type = ::ihipModuleSymbol_t;
};
template <> struct VendorType<ours::ihipGraph> { using type = ::ihipGraph; };
template <> struct VendorType<ours::hipGraphExec> {
  using type = ::hipGraphExec;
};
template <> struct VendorType<ours::ihipEvent_t> {
  using type = ::ihipEvent_t;
};
} // namespace llamac::test

namespace {

using llamac::test::kSameSignature;
using llamac::test::kSameType;

static_assert(kSameType<ours::hipError_t, ::hipError_t>);
static_assert(kSameType<ours::hipDevice_t, ::hipDevice_t>);
static_assert(kSameType<ours::hipDeviceptr_t, ::hipDeviceptr_t>);
static_assert(kSameType<ours::hipStream_t, ::hipStream_t>);
static_assert(kSameType<ours::hipModule_t, ::hipModule_t>);
static_assert(kSameType<ours::hipFunction_t, ::hipFunction_t>);
static_assert(kSameType<ours::hipGraph_t, ::hipGraph_t>);
static_assert(kSameType<ours::hipGraphExec_t, ::hipGraphExec_t>);
static_assert(kSameType<ours::hipEvent_t, ::hipEvent_t>);

#define LLAMAC_SAME_VALUE(name)                                                \
  static_assert(ours::name == ::name, #name " differs from HIP's header");
LLAMAC_SAME_VALUE(hipSuccess)
LLAMAC_SAME_VALUE(hipErrorInvalidImage)
LLAMAC_SAME_VALUE(hipErrorNoBinaryForGpu)
LLAMAC_SAME_VALUE(hipStreamCaptureModeThreadLocal)
#undef LLAMAC_SAME_VALUE
static_assert(ours::hipStreamNonBlocking == kTheirStreamNonBlocking,
              "hipStreamNonBlocking differs from HIP's header");

#define LLAMAC_SAME_SIGNATURE(name)                                            \
  static_assert(kSameSignature<ours::PFN_##name, decltype(&::name)>,           \
                "PFN_" #name " does not call " #name                           \
                " as HIP's header declares it");
LLAMAC_HIP_DRIVER_ENTRY_POINTS(LLAMAC_SAME_SIGNATURE)
#undef LLAMAC_SAME_SIGNATURE

} // namespace
#endif // LLAMAC_HIP_RUNTIME_API_H

namespace {

TEST(HipDriverApiDeclsTest, MatchHipRuntimeApiH) {
#ifdef LLAMAC_HIP_RUNTIME_API_H
  // The checks ran when this file compiled.
  RecordProperty("hip_runtime_api_h", LLAMAC_HIP_RUNTIME_API_H);
  RecordProperty("hip_version", HIP_VERSION);
#else
  GTEST_SKIP() << "no hip/hip_runtime_api.h when llamac was configured "
                  "(looked in $ROCM_PATH, /opt/rocm and the system include "
                  "path; Debian: apt install libamdhip64-dev): "
                  "HipDriverApi.h was not compared with AMD's declarations";
#endif
}

TEST(HipDriverApiDeclsTest, TheInstalledRuntimeExportsEverySymbol) {
  // The driver resolves every symbol before its first call, so on a machine
  // without an AMD GPU it gets as far as hipInit's error.
  absl::StatusOr<std::unique_ptr<llamac::hal::Device>> device =
      llamac::hal::hip::openHipDevice();
  if (device.ok())
    return;
  std::string message(device.status().message());
  if (absl::StrContains(message, " not found ("))
    GTEST_SKIP() << "no HIP runtime on this machine: " << message;
  EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr(" has no ")));
}

} // namespace
