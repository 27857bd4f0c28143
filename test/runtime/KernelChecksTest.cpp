//===- KernelChecksTest.cpp - dispatches against kernel signatures --------===//

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/artifact/KernelChecks.h"
#include "runtime/artifact/KernelSignature.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace llamac {
namespace {

using namespace runtime;
using ::testing::HasSubstr;

/// smallArtifact's metadata: one kernel k0_add in both entry points, so
/// only the decode step is checked here (the lookup names it per call).
ArtifactMetadata decodeOnly() {
  test::TestArtifact t = test::smallArtifact();
  t.editMetadata = [](nlohmann::json &m) { m["entry_points"].erase("prefill"); };
  absl::StatusOr<ArtifactMetadata> meta =
      parseArtifactMetadata(t.completeMetadata().dump(), 1 << 20);
  EXPECT_TRUE(meta.ok()) << meta.status();
  return *meta;
}

/// What decode's k0_add passes: out [1, 4] f32, layers.w's layer slice
/// [4] f32, embed [16, 4] f32, both caches (1 head of 4 f32 per
/// position), one token, logits [1, 16], pos, layer and a range.
constexpr const char *kDecodeAdd =
    "p16,p16,p256,c16,c16,p4,p64,pos,layer,range";

std::string check(const ArtifactMetadata &meta, std::optional<std::string> sig) {
  return std::string(
      checkKernelSignatures(meta, [&](std::string_view) { return sig; })
          .message());
}

TEST(KernelChecksTest, AMatchingSchedulePasses) {
  EXPECT_EQ(check(decodeOnly(), std::string(kDecodeAdd)), "");
  // Code objects without signatures (GPU) are not checked.
  EXPECT_EQ(check(decodeOnly(), std::nullopt), "");
}

TEST(KernelChecksTest, EachDisagreementNamesTheDispatchAndArgument) {
  ArtifactMetadata meta = decodeOnly();
  const std::string where = "metadata: entry_points.decode.schedule.layer_body[0] ";
  EXPECT_THAT(check(meta, "p16,p16,p256,c16,c16,p4,p64,p8,pos,layer,range"),
              HasSubstr(where + "passes 10 arguments but kernel 'k0_add'"));
  EXPECT_THAT(check(meta, "p16,p16,p256,c16,c16,p4,p128,pos,layer,range"),
              HasSubstr(where + "bindings[6] is p64 but kernel 'k0_add' "
                                "(p16,p16,p256,c16,c16,p4,p128,pos,layer,range) "
                                "takes p128 there"));
  EXPECT_THAT(check(meta, "p16,p16,p256,c32,c16,p4,p64,pos,layer,range"),
              HasSubstr("bindings[3] is c16 but kernel"));
  EXPECT_THAT(check(meta, "p16,p16,p256,p16,c16,p4,p64,pos,layer,range"),
              HasSubstr("bindings[3] is c16 but kernel"));
  EXPECT_THAT(check(meta, "p16,p16,p256,c16,c16,p4,p64,pos,rows,range"),
              HasSubstr("argument 8 is layer but kernel"));
  EXPECT_THAT(check(meta, "p16,p16,p256,c16,c16,p4,p64,pos,layer,pos"),
              HasSubstr("argument 9 is range but kernel"));
  EXPECT_THAT(check(meta, std::string("")),
              HasSubstr("calls kernel 'k0_add', which the kernel library has "
                        "no signature for"));
  EXPECT_THAT(check(meta, std::string("p16,,p4")),
              HasSubstr("whose signature 'p16,,p4' is malformed"));
}

TEST(KernelChecksTest, GpuSignaturesComeFromTheMetadata) {
  ArtifactMetadata meta = decodeOnly();
  auto noneInCode = [](std::string_view) { return std::optional<std::string>(); };
  // No table: nothing to check against.
  EXPECT_EQ(std::string(checkKernelSignatures(
                            meta, withMetadataSignatures(meta, noneInCode))
                            .message()),
            "");
  meta.kernelSignatures["k0_add"] = "p16,p16,p256,c16,c16,p4,p64,pos,layer";
  EXPECT_THAT(std::string(checkKernelSignatures(
                              meta, withMetadataSignatures(meta, noneInCode))
                              .message()),
              HasSubstr("passes 10 arguments but kernel 'k0_add'"));
  meta.kernelSignatures["k0_add"] = kDecodeAdd;
  EXPECT_TRUE(
      checkKernelSignatures(meta, withMetadataSignatures(meta, noneInCode)).ok());
  // A kernel the table does not name is an error, as in a kernel library.
  meta.kernelSignatures = {{"k9_other", kDecodeAdd}};
  EXPECT_THAT(std::string(checkKernelSignatures(
                              meta, withMetadataSignatures(meta, noneInCode))
                              .message()),
              HasSubstr("which the kernel library has no signature for"));
}

TEST(KernelChecksTest, SignaturesRoundTrip) {
  std::optional<KernelSignature> s = parseKernelSignature(kDecodeAdd);
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->size(), 10u);
  EXPECT_EQ((*s)[3].kind, KernelArg::Kind::Cache);
  EXPECT_EQ((*s)[3].bytes, 16u);
  EXPECT_EQ((*s)[7].scalar, Scalar::Pos);
  EXPECT_EQ(formatKernelSignature(*s), kDecodeAdd);
  for (const char *bad : {"p", "q4", "p-1", "p4,", ",p4", "pos4", "p99999999999999999999"})
    EXPECT_FALSE(parseKernelSignature(bad).has_value()) << bad;
  EXPECT_TRUE(parseKernelSignature("")->empty());
}

} // namespace
} // namespace llamac
