//===- GpuArtifactTest.cpp - the reader's rules for GPU artifacts ---------===//
//
// docs/artifact-format.md, "GPU targets": cubin/hsaco code objects, the
// optional kernels_ptx section, and `launch` (never `range`) on every
// dispatch. Most cases parse the metadata JSON text alone; errors name the
// field.
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "test/runtime/TestArtifact.h"

#include "absl/strings/str_cat.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

namespace llamac {
namespace {

using nlohmann::json;
using runtime::ArtifactMetadata;
using runtime::parseArtifactMetadata;
using test::gpuArtifact;
using test::smallArtifact;
using test::TestArtifact;
using ::testing::HasSubstr;

/// Comfortably larger than any test artifact: the sections lie inside.
constexpr uint64_t kFileSize = 1 << 20;

absl::StatusOr<ArtifactMetadata> parse(const TestArtifact &a) {
  return parseArtifactMetadata(a.completeMetadata().dump(), kFileSize);
}

/// The error of parsing `a` after `edit`; "" when it parses.
std::string errorAfter(TestArtifact a, std::function<void(json &)> edit) {
  a.editMetadata = std::move(edit);
  absl::StatusOr<ArtifactMetadata> meta = parse(a);
  return meta.ok() ? "" : std::string(meta.status().message());
}

json &decodeDispatch(json &m) {
  return m["entry_points"]["decode"]["schedule"]["layer_body"][0];
}

TEST(GpuArtifactTest, ParsesLaunchDimensionsAndThePtxSection) {
  TestArtifact a = gpuArtifact("nvvm");
  a.editMetadata = [](json &m) {
    decodeDispatch(m)["launch"] = {
        {"grid", {2048, 2, 3}}, {"block", {32, 4, 1}}, {"shared_bytes", 4096}};
  };
  absl::StatusOr<ArtifactMetadata> meta = parse(a);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_TRUE(meta->target.isGpu());
  EXPECT_EQ(meta->kernels.kind, "cubin");
  ASSERT_TRUE(meta->kernelsPtx.has_value());
  EXPECT_EQ(meta->kernelsPtx->kind, "ptx");
  const runtime::Dispatch &d =
      meta->findEntryPoint("decode")->schedule.layerBody[0];
  EXPECT_FALSE(d.range.has_value());
  ASSERT_TRUE(d.launch.has_value());
  EXPECT_EQ(d.launch->grid[0], 2048);
  EXPECT_EQ(d.launch->grid[2], 3);
  EXPECT_EQ(d.launch->block[1], 4);
  EXPECT_EQ(d.launch->sharedBytes, 4096);
}

TEST(GpuArtifactTest, OpensNvvmAndRocdlFiles) {
  for (const char *target : {"nvvm", "rocdl"}) {
    TestArtifact t = gpuArtifact(target);
    test::TempFile file(std::string(target) + ".llamac", t.bytes());
    absl::StatusOr<std::unique_ptr<runtime::Artifact>> a =
        runtime::Artifact::open(file.path);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ((*a)->target().name, target);
    EXPECT_EQ((*a)->kernelBytes(), t.kernels);
    EXPECT_EQ((*a)->kernelPtxBytes(), t.kernelsPtx); // empty for rocdl
  }
}

TEST(GpuArtifactTest, EveryDispatchNeedsLaunch) {
  EXPECT_EQ(errorAfter(gpuArtifact("rocdl"),
                       [](json &m) { decodeDispatch(m).erase("launch"); }),
            "metadata: entry_points.decode.schedule.layer_body[0].launch is "
            "missing");
  EXPECT_EQ(errorAfter(gpuArtifact("nvvm"),
                       [](json &m) { decodeDispatch(m)["launch"] = 7; }),
            "metadata: entry_points.decode.schedule.layer_body[0].launch must "
            "be an object");
}

TEST(GpuArtifactTest, RangeIsForCpuAndLaunchForGpu) {
  EXPECT_EQ(errorAfter(gpuArtifact("nvvm"),
                       [](json &m) { decodeDispatch(m)["range"] = 64; }),
            "metadata: entry_points.decode.schedule.layer_body[0].range is not "
            "allowed for target 'nvvm' (use launch)");
  EXPECT_EQ(errorAfter(smallArtifact(),
                       [](json &m) {
                         decodeDispatch(m)["launch"] = {
                             {"grid", {1, 1, 1}},
                             {"block", {1, 1, 1}},
                             {"shared_bytes", 0}};
                       }),
            "metadata: entry_points.decode.schedule.layer_body[0].launch is "
            "only allowed for GPU targets");
}

TEST(GpuArtifactTest, LaunchDimensionsAreThreePositiveIntegers) {
  const std::string where =
      "metadata: entry_points.decode.schedule.layer_body[0].launch.";
  for (json bad : {json{1, 1}, json{1, 1, 1, 1}, json{0, 1, 1},
                   json{-4, 1, 1}, json{1.5, 1, 1}, json{"1", 1, 1},
                   json{int64_t(1) << 31, 1, 1}, json(7)}) {
    std::string grid = errorAfter(gpuArtifact("nvvm"), [&](json &m) {
      decodeDispatch(m)["launch"]["grid"] = bad;
    });
    // The message names the field, or the element, that is wrong.
    EXPECT_THAT(grid, HasSubstr(where + "grid")) << bad.dump();
    std::string block = errorAfter(gpuArtifact("rocdl"), [&](json &m) {
      decodeDispatch(m)["launch"]["block"] = bad;
    });
    EXPECT_THAT(block, HasSubstr(where + "block")) << bad.dump();
  }
  EXPECT_EQ(errorAfter(gpuArtifact("nvvm"),
                       [](json &m) {
                         decodeDispatch(m)["launch"]["shared_bytes"] = -1;
                       }),
            where + "shared_bytes must not be negative");
  EXPECT_EQ(errorAfter(gpuArtifact("nvvm"),
                       [](json &m) {
                         decodeDispatch(m)["launch"].erase("shared_bytes");
                       }),
            where + "shared_bytes is missing");
}

TEST(GpuArtifactTest, KernelFormatMatchesTheTarget) {
  EXPECT_EQ(errorAfter(gpuArtifact("nvvm"),
                       [](json &m) { m["kernels"]["format"] = "hsaco"; }),
            "metadata: kernels.format is 'hsaco' but target 'nvvm' needs "
            "'cubin'");
  EXPECT_EQ(errorAfter(gpuArtifact("rocdl"),
                       [](json &m) { m["kernels"]["format"] = "cubin"; }),
            "metadata: kernels.format is 'cubin' but target 'rocdl' needs "
            "'hsaco'");
  EXPECT_EQ(errorAfter(smallArtifact(),
                       [](json &m) { m["kernels"]["format"] = "cubin"; }),
            "metadata: kernels.format is 'cubin' but target 'cpu' needs "
            "'elf-shared-object'");
}

TEST(GpuArtifactTest, PtxSectionIsForNvvmOnly) {
  TestArtifact rocdl = gpuArtifact("rocdl");
  rocdl.kernelsPtx = "ptx text";
  EXPECT_EQ(errorAfter(rocdl, nullptr),
            "metadata: kernels_ptx is only allowed for target 'nvvm'");
  EXPECT_EQ(errorAfter(gpuArtifact("nvvm"),
                       [](json &m) { m["kernels_ptx"]["format"] = "cubin"; }),
            "metadata: kernels_ptx.format is 'cubin' but must be 'ptx'");
  EXPECT_THAT(errorAfter(gpuArtifact("nvvm"),
                         [](json &m) { m["kernels_ptx"]["offset"] = 4097; }),
              HasSubstr("kernels_ptx offset 4097 is not aligned"));
  EXPECT_THAT(
      errorAfter(gpuArtifact("nvvm"),
                 [](json &m) { m["kernels_ptx"]["size"] = kFileSize; }),
      HasSubstr("kernels_ptx ["));
  // Optional: a cubin for the right GPU needs no PTX.
  TestArtifact noPtx = gpuArtifact("nvvm");
  noPtx.kernelsPtx.clear();
  EXPECT_EQ(errorAfter(noPtx, nullptr), "");
}

TEST(GpuArtifactTest, LastRowChunksAreForCpu) {
  // A GPU kernel computes every row of a padded chunk, so a "last" row would
  // be padding's whenever the prompt does not fill the chunk: llamac never
  // writes one for a GPU, and the reader refuses a hand-made one.
  auto lastRow = [](json &m) {
    json &ep = m["entry_points"]["prefill"];
    ep["logits_rows"] = "last";
    for (json &buffer : ep["buffers"])
      if (buffer["id"] == ep["logits"])
        buffer["shape"][0] = 1;
  };
  for (const char *target : {"nvvm", "rocdl"})
    EXPECT_EQ(errorAfter(gpuArtifact(target), lastRow),
              absl::StrCat("metadata: entry_points.prefill.logits_rows is \"last\" in a ",
                           target,
                           " artifact: only cpu kernels stop at the rows a chunk fills, so "
                           "only cpu artifacts have last-row chunks"));
  // The same edit is a valid cpu artifact (ArtifactTest.LastRowChunkIsFoundByItsLogitRows).
  EXPECT_EQ(errorAfter(smallArtifact(), lastRow), "");
}

TEST(GpuArtifactTest, UnknownTarget) {
  EXPECT_EQ(errorAfter(smallArtifact(),
                       [](json &m) { m["target"]["name"] = "spirv"; }),
            "metadata: target.name has unknown target 'spirv' (expected cpu, "
            "nvvm or rocdl)");
}

} // namespace
} // namespace llamac
