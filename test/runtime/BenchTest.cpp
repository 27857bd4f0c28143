//===- BenchTest.cpp - the benchmark library ------------------------------===//
//
// The read probe really reads (its checksum is the closed form for the
// buffer it filled, on every kernel and split), the traffic accounting
// counts what a decode step binds, and a whole benchmark on the fake model
// yields a report with the keys scripts rely on.
//
//===----------------------------------------------------------------------===//

#include "runtime/bench/BenchReport.h"
#include "runtime/bench/KernelProfile.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/DecodeTraffic.h"
#include "runtime/bench/MachineMemory.h"
#include "runtime/bench/ModelBench.h"
#include "runtime/bench/ReadProbe.h"
#include "runtime/bench/Summary.h"
#include "runtime/hal/drivers/cpu/CpuDevice.h"
#include "test/runtime/StartCpuDevice.h"
#include "test/runtime/FakeModel.h"
#include "test/runtime/OpenSession.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <random>

namespace llamac::bench {
namespace {

using runtime::ArtifactMetadata;
using runtime::Binding;
using runtime::Dispatch;
using runtime::WeightInfo;
using runtime::DecodeTraffic;
using runtime::decodeTraffic;
using runtime::kvCacheBytesRead;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1ull << 20;

TEST(BenchSummaryTest, MedianAndRange) {
  Summary odd = summarize({3, 1, 2});
  EXPECT_EQ(odd.median, 2);
  EXPECT_EQ(odd.min, 1);
  EXPECT_EQ(odd.max, 3);
  EXPECT_EQ(summarize({4, 1, 3, 2}).median, 2.5);
  Summary none = summarize({});
  EXPECT_EQ(none.median, 0);
  EXPECT_EQ(none.max, 0);
}

TEST(MachineMemoryTest, ParsesSysfsAndMeminfo) {
  EXPECT_EQ(parseCacheSize("32768K\n"), 32 * kMiB);
  EXPECT_EQ(parseCacheSize("2M"), 2 * kMiB);
  EXPECT_EQ(parseCacheSize("512"), 512u);
  EXPECT_EQ(parseCacheSize(""), 0u);
  EXPECT_EQ(parseCacheSize("lots"), 0u);
  EXPECT_EQ(parseMemAvailable("MemTotal:  100 kB\nMemAvailable:   2048 kB\n"),
            2048u * 1024);
  EXPECT_EQ(parseMemAvailable("MemTotal: 100 kB\n"), 0u);
}

TEST(MachineMemoryTest, ProbeSizeOutgrowsTheCacheWithinMemory) {
  const uint64_t gib = 1024 * kMiB;
  EXPECT_EQ(defaultProbeBytes(32 * kMiB, 0), gib);
  EXPECT_EQ(defaultProbeBytes(0, 64 * gib), gib);
  EXPECT_EQ(defaultProbeBytes(512 * kMiB, 64 * gib), 2 * gib);
  EXPECT_EQ(defaultProbeBytes(32 * kMiB, gib), gib / 2);
  EXPECT_EQ(defaultProbeBytes(32 * kMiB, 10000), 4096u);
  EXPECT_EQ(defaultProbeBytes(32 * kMiB, 3 * gib + 12345) % 4096, 0u);
  // This machine: something sane.
  EXPECT_GE(defaultProbeBytes(lastLevelCacheBytes(), availableMemoryBytes()),
            4096u);
}

TEST(ReadProbeTest, KernelsSumEveryWord) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> data(4099);
  for (uint64_t &w : data)
    w = rng();
  std::vector<ReadKernel> kernels = {ReadKernel::Generic};
  if (bestReadKernel() == ReadKernel::Avx2Prefetch) {
    kernels.push_back(ReadKernel::Avx2);
    kernels.push_back(ReadKernel::Avx2Prefetch);
  }
  for (ReadKernel kernel : kernels)
    for (uint64_t n : {0, 1, 7, 8, 15, 16, 17, 1000, 4099}) {
      uint64_t plain = 0;
      for (uint64_t i = 0; i < n; ++i)
        plain += data[i];
      EXPECT_EQ(sumWords(data.data(), n, kernel), plain)
          << readKernelName(kernel) << " over " << n << " words";
    }
}

TEST(ReadProbeTest, ExpectedChecksumIsTheWrappingSumOfIndices) {
  for (uint64_t n : {0, 1, 2, 3, 1000, 1001}) {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; ++i)
      sum += i;
    EXPECT_EQ(expectedChecksum(n), sum) << n;
  }
  // Past 2^64: the sum wraps exactly as the kernels' adds do.
  for (uint64_t n : {1ull << 33, (1ull << 33) + 1}) {
    unsigned __int128 exact = (unsigned __int128)n * (n - 1) / 2;
    EXPECT_EQ(expectedChecksum(n), static_cast<uint64_t>(exact)) << n;
  }
}

TEST(ReadProbeTest, ReadsTheWholeBufferOnEveryThread) {
  for (int threads : {1, 2, 3}) {
    std::unique_ptr<hal::cpu::CpuDevice> started = testing::startCpuDevice(threads);
    ASSERT_NE(started, nullptr);
    hal::cpu::CpuDevice &device = *started;
    ReadProbeOptions options;
    options.bytes = 4 * kMiB + 100; // rounded down to whole blocks
    options.repeats = 3;
    absl::StatusOr<ReadProbeResult> r = measureReadBandwidth(device, options);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->bytes, 4 * kMiB);
    EXPECT_EQ(r->threads, threads);
    EXPECT_EQ(r->checksum, expectedChecksum(4 * kMiB / 8));
    ASSERT_EQ(r->gbytesPerS.size(), 3u);
    for (double g : r->gbytesPerS)
      EXPECT_GT(g, 0);
  }
}

TEST(ReadProbeTest, RejectsNonsense) {
  std::unique_ptr<hal::cpu::CpuDevice> started = testing::startCpuDevice(1);
  ASSERT_NE(started, nullptr);
  hal::cpu::CpuDevice &device = *started;
  ReadProbeOptions options;
  options.bytes = 100;
  EXPECT_FALSE(measureReadBandwidth(device, options).ok());
  options.bytes = kMiB;
  options.repeats = 0;
  EXPECT_FALSE(measureReadBandwidth(device, options).ok());
}

WeightInfo weight(const std::string &name, std::vector<int64_t> shape,
                  runtime::DType dtype = runtime::DType::F32) {
  WeightInfo w;
  w.name = name;
  w.dtype = dtype;
  w.shape = shape;
  w.size = runtime::dtypeSize(dtype);
  for (int64_t d : shape)
    w.size *= d;
  return w;
}

Dispatch uses(int64_t weightIndex) {
  Dispatch d;
  Binding b;
  b.kind = Binding::Kind::Weight;
  b.weightIndex = weightIndex;
  d.bindings.push_back(b);
  return d;
}

/// tok_embeddings [8, 4], layers.w [2, 4, 4], output [8, 4], unused [100]:
/// decode gathers from the table in its prologue.
ArtifactMetadata tinyMetadata(bool tiedClassifier) {
  ArtifactMetadata m;
  m.weights = {weight("tok_embeddings", {8, 4}), weight("layers.w", {2, 4, 4}),
               weight("output", {8, 4}), weight("unused", {100})};
  runtime::EntryPoint decode;
  decode.name = "decode";
  decode.tokens = 1;
  decode.captureAsGraph = true;
  decode.schedule.prologue = {uses(0)};
  decode.schedule.layerBody = {uses(1)};
  decode.schedule.epilogue = {uses(tiedClassifier ? 0 : 2)};
  m.entryPoints["decode"] = decode;
  return m;
}

TEST(DecodeTrafficTest, CountsOneEmbeddingRow) {
  DecodeTraffic t = decodeTraffic(tinyMetadata(false));
  EXPECT_EQ(t.artifactWeightBytes, 128u + 128 + 128 + 400);
  EXPECT_EQ(t.weightBytesPerStep, 16u + 128 + 128);
  EXPECT_EQ(t.embeddingBytesExcluded, 112u);
  EXPECT_EQ(t.weightDtype, "f32");
}

TEST(DecodeTrafficTest, ATiedClassifierReadsTheWholeTable) {
  DecodeTraffic t = decodeTraffic(tinyMetadata(true));
  EXPECT_EQ(t.weightBytesPerStep, 128u + 128);
  EXPECT_EQ(t.embeddingBytesExcluded, 0u);
}

TEST(DecodeTrafficTest, ATiedClassifierInThePrologueReadsTheWholeTable) {
  // One layer: the classifier can sit in the prologue beside the gather.
  ArtifactMetadata m = tinyMetadata(true);
  runtime::Schedule &schedule = m.entryPoints["decode"].schedule;
  schedule.prologue = {uses(0), uses(1), uses(0)};
  schedule.layerBody.clear();
  schedule.epilogue.clear();
  DecodeTraffic t = decodeTraffic(m);
  EXPECT_EQ(t.weightBytesPerStep, 128u + 128);
  EXPECT_EQ(t.embeddingBytesExcluded, 0u);
}

TEST(DecodeTrafficTest, DtypeByBytes) {
  ArtifactMetadata m;
  m.weights = {weight("w", {1000}, runtime::DType::BF16), weight("norm", {10})};
  EXPECT_EQ(decodeTraffic(m).weightDtype, "bf16");
  m.weights.push_back(weight("v", {1000}));
  EXPECT_EQ(decodeTraffic(m).weightDtype, "mixed");
}

TEST(DecodeTrafficTest, KVCacheBytes) {
  runtime::KVCacheInfo kv;
  kv.layers = 5;
  kv.kvHeads = 4;
  kv.headDim = 8;
  kv.positions = 576;
  // K and V, 5 * 4 * 8 f32 per position.
  EXPECT_EQ(kvCacheBytesRead(kv, 10), 2.0 * 5 * 4 * 8 * 10 * 4);
}

TEST(ModelBenchTest, SyntheticTokens) {
  std::vector<int32_t> ids = syntheticTokens(200, 512, 1);
  ASSERT_EQ(ids.size(), 200u);
  EXPECT_EQ(ids[0], 1);
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_GE(ids[i], 3);
    EXPECT_LT(ids[i], 512);
  }
  EXPECT_EQ(ids, syntheticTokens(200, 512, 1));
  // A prefix of a longer run: every prompt length sees the same start.
  std::vector<int32_t> longer = syntheticTokens(300, 512, 1);
  EXPECT_TRUE(std::equal(ids.begin(), ids.end(), longer.begin()));
  EXPECT_THAT(syntheticTokens(3, 2, 5),
              ElementsAre(0, ::testing::_, ::testing::_));
  EXPECT_TRUE(syntheticTokens(0, 512, 1).empty());
}

TEST(ModelBenchTest, RunsOnTheFakeModel) {
  test::FakeModelSpec spec;
  spec.maxSeqLen = 64;
  test::TempFile file("bench.llamac", test::fakeModel(spec).bytes());
  ModelOptions modelOptions;
  modelOptions.threads = 2;
  absl::StatusOr<std::unique_ptr<Session>> session =
      test::openSession(file.path, modelOptions);
  ASSERT_TRUE(session.ok()) << session.status();

  BenchOptions options;
  options.promptTokens = {8, 100, 64}; // 100 clips to 64, measured once
  options.newTokens = 100;             // clipped to 64 - 16
  options.repeats = 2;
  options.probeBytes = kMiB;
  std::vector<std::string> progress;
  options.progress = [&](std::string_view line) {
    progress.emplace_back(line);
  };
  absl::StatusOr<BenchResult> r = runBench(**session, options);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->prefill.size(), 2u);
  EXPECT_EQ(r->prefill[0].tokens, 8);
  EXPECT_EQ(r->prefill[1].tokens, 64);
  EXPECT_EQ(r->timeToFirstTokenPromptTokens, 8);
  EXPECT_EQ(r->decodePromptTokens, 16);
  EXPECT_EQ(r->decodeTokens, 48);
  EXPECT_EQ(r->decodeAverageContext, 16 + 49 / 2.0);
  EXPECT_EQ(r->threads, 2);
  EXPECT_EQ(r->probe.threads, 2);
  EXPECT_EQ(r->probe.bytes, kMiB);
  EXPECT_EQ(r->probe.checksum, expectedChecksum(kMiB / 8));
  EXPECT_THAT(progress, ::testing::Contains(HasSubstr("decode 48 tokens")));

  nlohmann::ordered_json j = benchJson(*r);
  EXPECT_EQ(j["artifact"], file.path);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["model"]["vocab"], test::kVocab);
  const nlohmann::ordered_json &s = j["stats"];
  for (const char *key :
       {"decode_tokens_per_s", "decode_gbytes_per_s", "prefill_tokens_per_s",
        "time_to_first_token_ms", "measured_read_gbytes_per_s"}) {
    ASSERT_TRUE(s[key].is_number()) << key;
    EXPECT_GT(s[key].get<double>(), 0) << key;
    EXPECT_LE(s[std::string(key) + "_min"].get<double>(), s[key].get<double>())
        << key;
    EXPECT_GE(s[std::string(key) + "_max"].get<double>(), s[key].get<double>())
        << key;
  }
  // The fake model binds info.decode (f32 [2]) and layers.scale
  // (f32 [2, 1]) in decode; info.prefill is prefill's only.
  EXPECT_EQ(s["weight_bytes"], 16u);
  EXPECT_EQ(j["model"]["artifact_weight_bytes"], 24u);
  double fraction = s["bandwidth_fraction"].get<double>();
  EXPECT_GT(fraction, 0);
  EXPECT_LT(fraction, 2);
  EXPECT_EQ(s["prefill"].size(), 2u);
  EXPECT_EQ(s["prefill"][1]["tokens"], 64);

  std::string table = benchTable(*r);
  EXPECT_THAT(table, HasSubstr("prefill 64 tokens (tok/s)"));
  EXPECT_THAT(table, HasSubstr("% of measured"));
}

TEST(ModelBenchTest, RejectsBadOptions) {
  test::TempFile file("bench-bad.llamac", test::fakeModel({}).bytes());
  absl::StatusOr<std::unique_ptr<Session>> session =
      test::openSession(file.path);
  ASSERT_TRUE(session.ok()) << session.status();
  for (auto edit : std::vector<std::function<void(BenchOptions &)>>{
           [](BenchOptions &o) { o.repeats = 0; },
           [](BenchOptions &o) { o.newTokens = 0; },
           [](BenchOptions &o) { o.promptTokens.clear(); },
           [](BenchOptions &o) {
             o.promptTokens = {4, 0};
           }}) {
    BenchOptions options;
    options.probeBytes = kMiB;
    edit(options);
    absl::StatusOr<BenchResult> r = runBench(**session, options);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

/// Launches per call of `entry`, by kernel, from its schedule: the
/// prologue and epilogue once, the layer body once per layer.
std::map<std::string, int64_t> scheduledLaunches(const runtime::EntryPoint &entry,
                                                 int64_t layers) {
  std::map<std::string, int64_t> launches;
  for (const Dispatch &d : entry.schedule.prologue)
    ++launches[d.kernel];
  for (const Dispatch &d : entry.schedule.layerBody)
    launches[d.kernel] += layers;
  for (const Dispatch &d : entry.schedule.epilogue)
    ++launches[d.kernel];
  return launches;
}

/// The kernels of a profile and their launches per run.
std::map<std::string, int64_t> profiledLaunches(const KernelProfile &p,
                                                const std::string &entryPoint) {
  std::map<std::string, int64_t> launches;
  for (const KernelTime &k : p.kernels) {
    EXPECT_EQ(k.entryPoint, entryPoint) << k.kernel;
    launches[k.kernel] += k.calls;
  }
  return launches;
}

/// Every span is a share of its run's wall time, and they are listed
/// slowest first.
void expectSpansWithinTheRun(const KernelProfile &p) {
  double total = 0;
  for (size_t i = 0; i < p.kernels.size(); ++i) {
    const KernelTime &k = p.kernels[i];
    EXPECT_GE(k.ms, 0) << k.kernel;
    if (i > 0) {
      EXPECT_LE(k.ms, p.kernels[i - 1].ms) << k.kernel;
    }
    total += k.ms;
  }
  EXPECT_GT(total, 0);
  EXPECT_LE(total, p.runMs * (1 + 1e-9));
}

/// stories260K's compiled kernels: the profile counts each launch of the
/// artifact's schedule, with the entry point that made it.
TEST(KernelProfileTest, CountsEveryScheduledLaunchOfStories260K) {
  ModelOptions modelOptions;
  modelOptions.threads = 2;
  absl::StatusOr<std::unique_ptr<Session>> session =
      test::openSession(LLAMAC_STORIES_ARTIFACT, modelOptions);
  ASSERT_TRUE(session.ok()) << session.status();
  const Model &model = (*session)->model();
  const int64_t layers = model.info().layers;
  const std::vector<int32_t> ids = syntheticTokens(8, model.info().vocab, model.info().bos);

  // One chunk: the whole prompt is one call of the last-row prefill.
  const runtime::EntryPoint *last = model.artifact().entryPoint("prefill_last");
  ASSERT_NE(last, nullptr);
  ASSERT_LE(8, last->tokens);
  absl::StatusOr<KernelProfile> prefill = profilePrefill(**session, ids, 2);
  ASSERT_TRUE(prefill.ok()) << prefill.status();
  EXPECT_EQ(prefill->phase, "prefill");
  EXPECT_EQ(prefill->tokens, 8);
  EXPECT_EQ(prefill->runs, 2);
  EXPECT_EQ(profiledLaunches(*prefill, "prefill_last"), scheduledLaunches(*last, layers));
  expectSpansWithinTheRun(*prefill);

  // 5 steps: the decode entry point's launches, 5 times; the prompt's
  // prefill is not counted.
  const runtime::EntryPoint *decode = model.artifact().entryPoint("decode");
  ASSERT_NE(decode, nullptr);
  absl::StatusOr<KernelProfile> steps =
      profileDecode(**session, std::vector<int32_t>(ids.begin(), ids.begin() + 4), 5, 3);
  ASSERT_TRUE(steps.ok()) << steps.status();
  EXPECT_EQ(steps->phase, "decode");
  EXPECT_EQ(steps->tokens, 5);
  std::map<std::string, int64_t> expected = scheduledLaunches(*decode, layers);
  for (auto &[kernel, calls] : expected)
    calls *= 5;
  EXPECT_EQ(profiledLaunches(*steps, "decode"), expected);
  expectSpansWithinTheRun(*steps);

  // No runs, no steps: refused.
  EXPECT_EQ(profilePrefill(**session, ids, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(profileDecode(**session, ids, 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

} // namespace
} // namespace llamac::bench
