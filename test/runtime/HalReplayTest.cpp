//===- HalReplayTest.cpp - the CPU driver replays schedules faithfully ----===//
//
// Uses the test kernel library (test_kernels.c), built as a shared object,
// to check what the kernels receive: pointers, per-layer weight slices,
// scalars and [begin, end) ranges.
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/KernelLibrary.h"
#include "runtime/hal/drivers/cpu/CpuDevice.h"
#include "test/runtime/StartCpuDevice.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace llamac::hal {
namespace {

using runtime::KernelLibrary;

std::unique_ptr<KernelLibrary> loadTestKernels() {
  absl::StatusOr<std::unique_ptr<KernelLibrary>> lib =
      KernelLibrary::loadFile(LLAMAC_TEST_KERNELS_PATH);
  EXPECT_TRUE(lib.ok()) << lib.status();
  return lib.ok() ? std::move(*lib) : nullptr;
}

TEST(HalReplayTest, LoadsFromMemoryAndResolvesKernels) {
  std::string bytes = test::readFile(LLAMAC_TEST_KERNELS_PATH);
  ASSERT_FALSE(bytes.empty());
  absl::StatusOr<std::unique_ptr<KernelLibrary>> lib =
      KernelLibrary::load(bytes, "model.llamac");
  ASSERT_TRUE(lib.ok()) << lib.status();
  EXPECT_TRUE((*lib)->lookup("k_accumulate").ok());
  absl::StatusOr<KernelFn> missing = (*lib)->lookup("k_missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "model.llamac: the kernel library has no symbol k_missing_packed "
            "(kernel 'k_missing' is used by the schedule)");
}

TEST(HalReplayTest, RefusesANonElfLibrary) {
  absl::StatusOr<std::unique_ptr<KernelLibrary>> lib =
      KernelLibrary::load("MZ not elf", "model.llamac");
  ASSERT_FALSE(lib.ok());
  EXPECT_THAT(std::string(lib.status().message()),
              ::testing::HasSubstr("not an ELF shared object"));
  // ELF magic but garbage after it: dlopen's error, not a crash.
  lib = KernelLibrary::load(std::string("\x7f"
                                        "ELF") +
                                std::string(100, 'x'),
                            "model.llamac");
  ASSERT_FALSE(lib.ok());
  EXPECT_THAT(std::string(lib.status().message()),
              ::testing::HasSubstr("cannot load the kernel library"));
}

TEST(HalReplayTest, TwoLibrariesLoadedFromMemoryStayApart) {
  // A target and a draft artifact are loaded side by side; each must get
  // its own kernels even though both come from /proc/self/fd paths.
  std::string bytes = test::readFile(LLAMAC_TEST_KERNELS_PATH);
  for (int round = 0; round < 3; ++round) {
    auto a = KernelLibrary::load(bytes, "a.llamac");
    auto b = KernelLibrary::load(bytes, "b.llamac");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(*(*a)->lookup("k_count"), nullptr);
    EXPECT_NE(*(*b)->lookup("k_count"), nullptr);
    // After a library is gone, garbage under a reused descriptor number is
    // still refused, not answered with the old library.
    a->reset();
    EXPECT_FALSE(KernelLibrary::load(std::string("\x7f"
                                                 "ELF") +
                                         "junk",
                                     "c.llamac")
                     .ok());
  }
}

TEST(HalReplayTest, AllocatesZeroedAlignedBuffers) {
  std::unique_ptr<cpu::CpuDevice> started = testing::startCpuDevice(1);
  ASSERT_NE(started, nullptr);
  cpu::CpuDevice &device = *started;
  for (uint64_t size : {0ull, 1ull, 100ull, 1ull << 20}) {
    absl::StatusOr<std::unique_ptr<Buffer>> b = device.allocate(size);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ((*b)->size(), size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*b)->data()) % 64, 0u);
    const char *p = static_cast<const char *>((*b)->data());
    for (uint64_t i = 0; i < size; i += 4093)
      ASSERT_EQ(p[i], 0);
  }
}

TEST(HalReplayTest, BindsPerLayerWeightsScalarsAndRanges) {
  std::unique_ptr<KernelLibrary> lib = loadTestKernels();
  ASSERT_TRUE(lib);
  constexpr int64_t kLayers = 3, kN = 100;
  // w[l][i] = 1000 * l + i, stacked [layers, N].
  std::vector<float> w(kLayers * kN);
  for (int64_t l = 0; l < kLayers; ++l)
    for (int64_t i = 0; i < kN; ++i)
      w[l * kN + i] = 1000.0f * l + i;

  for (int threads : {1, 3}) {
    std::unique_ptr<cpu::CpuDevice> started = testing::startCpuDevice(threads);
    ASSERT_NE(started, nullptr);
    cpu::CpuDevice &device = *started;
    auto out = device.allocate(kN * sizeof(float));
    auto counts = device.allocate(kN * sizeof(int32_t));
    auto log = device.allocate(3 * sizeof(int64_t));
    ASSERT_TRUE(out.ok() && counts.ok() && log.ok());

    Program program;
    program.layers = kLayers;
    BoundDispatch accumulate;
    accumulate.kernel = "k_accumulate";
    accumulate.fn = *lib->lookup("k_accumulate");
    accumulate.args = {ArgSource::pointer((*out)->data()),
                       ArgSource::layerSlice(w.data(), kN * sizeof(float)),
                       ArgSource::pos(), ArgSource::layer()};
    accumulate.range = kN;
    program.layerBody.push_back(accumulate);
    BoundDispatch count;
    count.kernel = "k_count";
    count.fn = *lib->lookup("k_count");
    count.args = {ArgSource::pointer((*counts)->data())};
    count.range = kN;
    program.prologue.push_back(count);
    BoundDispatch record;
    record.kernel = "k_record";
    record.fn = *lib->lookup("k_record");
    // Scalars in the order the schedule lists them: layer first here.
    record.args = {ArgSource::pointer((*log)->data()), ArgSource::layer(),
                   ArgSource::pos()};
    program.epilogue.push_back(record);
    program.layerBody.push_back(record);

    Invocation invocation;
    invocation.pos = 7;
    ASSERT_TRUE(device.run(program, invocation).ok());

    const float *o = static_cast<const float *>((*out)->data());
    for (int64_t i = 0; i < kN; ++i) {
      // sum over l of (1000 l + i) + 7 + 100 l
      float expected = 0;
      for (int64_t l = 0; l < kLayers; ++l)
        expected += 1000.0f * l + i + 7 + 100.0f * l;
      ASSERT_EQ(o[i], expected) << "i=" << i << " threads=" << threads;
    }
    const int32_t *c = static_cast<const int32_t *>((*counts)->data());
    for (int64_t i = 0; i < kN; ++i)
      ASSERT_EQ(c[i], 1) << "i=" << i;
    const int64_t *l = static_cast<const int64_t *>((*log)->data());
    EXPECT_EQ(l[0], kLayers + 1); // once per layer, once in the epilogue
    EXPECT_EQ(l[1], 0);           // the epilogue runs with layer 0
    EXPECT_EQ(l[2], 7);
  }
}

TEST(HalReplayTest, RefusesTooManyArguments) {
  std::unique_ptr<KernelLibrary> lib = loadTestKernels();
  ASSERT_TRUE(lib);
  std::unique_ptr<cpu::CpuDevice> started = testing::startCpuDevice(2);
  ASSERT_NE(started, nullptr);
  cpu::CpuDevice &device = *started;
  Program program;
  BoundDispatch d;
  d.kernel = "k_count";
  d.fn = *lib->lookup("k_count");
  d.args.assign(kMaxKernelArgs - 1, ArgSource::pos());
  d.range = 4;
  program.prologue.push_back(d);
  EXPECT_FALSE(device.run(program, Invocation{}).ok());
}

} // namespace
} // namespace llamac::hal
