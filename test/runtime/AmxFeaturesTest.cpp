//===- AmxFeaturesTest.cpp - which AMX variants a CPU may run -------------===//
//
// The runtime binds an artifact's `<kernel>_amx` variants only where CPUID
// reports every feature they need (target.amx_features): bf16 weights'
// tdpbf16ps needs AMX-BF16, int8/int4 weights' tdpbssd AMX-INT8. Checked on
// made-up CPUID words, so it runs on any CPU (docs/cpu-target.md, "AMX
// prefill").
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/drivers/cpu/Amx.h"

#include <gtest/gtest.h>

using llamac::hal::cpu::amxFeaturesInCpuid;

namespace {

constexpr unsigned kBf16 = 1u << 22, kTile = 1u << 24, kInt8 = 1u << 25;
const std::vector<std::string> kBf16Variants{"amx_tile", "amx_bf16"};
const std::vector<std::string> kIntVariants{"amx_tile", "amx_int8"};

TEST(AmxFeatures, Bf16VariantsNeedTileAndBf16) {
  EXPECT_TRUE(amxFeaturesInCpuid(kTile | kBf16, kBf16Variants));
  EXPECT_TRUE(amxFeaturesInCpuid(kTile | kBf16 | kInt8, kBf16Variants));
  EXPECT_FALSE(amxFeaturesInCpuid(kTile | kInt8, kBf16Variants));
  EXPECT_FALSE(amxFeaturesInCpuid(kBf16, kBf16Variants));
}

TEST(AmxFeatures, IntVariantsNeedTileAndInt8) {
  EXPECT_TRUE(amxFeaturesInCpuid(kTile | kInt8, kIntVariants));
  EXPECT_TRUE(amxFeaturesInCpuid(kTile | kBf16 | kInt8, kIntVariants));
  EXPECT_FALSE(amxFeaturesInCpuid(kTile | kBf16, kIntVariants));
  EXPECT_FALSE(amxFeaturesInCpuid(kInt8, kIntVariants));
}

/// Artifacts from before target.amx_features need all three; an unknown
/// feature is never there; no AMX at all runs nothing.
TEST(AmxFeatures, OlderArtifactsAndUnknownNames) {
  EXPECT_TRUE(amxFeaturesInCpuid(kTile | kBf16 | kInt8, {}));
  EXPECT_FALSE(amxFeaturesInCpuid(kTile | kBf16, {}));
  EXPECT_FALSE(amxFeaturesInCpuid(kTile | kBf16 | kInt8, {"amx_tile", "amx_fp16"}));
  EXPECT_FALSE(amxFeaturesInCpuid(0, kBf16Variants));
  EXPECT_FALSE(amxFeaturesInCpuid(0, kIntVariants));
}

} // namespace
