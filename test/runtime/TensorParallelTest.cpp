//===- TensorParallelTest.cpp - TP artifacts, ranks and collectives -------===//
//
// The runtime's side of docs/tensor-parallel.md: a synthetic two-rank
// artifact opens for either rank with that rank's weights; broken tables,
// collective steps and KV caches are refused; Model::load checks the launch
// against the rank count; the CPU driver runs all-reduce and all-gather
// steps on its communicator, between kernels, with the buffers it binds; a
// split output head's logits are gathered and benchmarked. Then MPI's
// all-gather on ranks started under mpirun: the communicator alone
// (MpiGatherProbe.cpp), and llama-run on the split fake model.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Model.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/bench/BenchReport.h"
#include "runtime/bench/KernelProfile.h"
#include "runtime/bench/ModelBench.h"
#include "runtime/comm/Communicator.h"
#include "runtime/hal/Program.h"
#include "test/runtime/FakeModel.h"
#include "test/runtime/LlamaRunProcess.h"
#include "test/runtime/OpenSession.h"
#include "test/runtime/StartCpuDevice.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace llamac {
namespace {

using runtime::Artifact;
using test::TempFile;
using test::TestArtifact;
using ::testing::HasSubstr;
using json = nlohmann::json;

/// A communicator of `ranks` processes that records what it is asked to sum
/// and gather. It stands for the other ranks by doubling the values (what a
/// sum over two equal ranks gives) and by zeros in their columns.
class RecordingCommunicator final : public comm::Communicator {
public:
  explicit RecordingCommunicator(int ranks, int rank = 0) : ranks(ranks), self(rank) {}
  int rank() const override { return self; }
  int size() const override { return ranks; }
  std::string name() const override { return "recording"; }
  absl::Status firstError(const absl::Status &local) override { return local; }
  [[noreturn]] void abortAll(int) override { std::abort(); }
  std::vector<size_t> counts;
  /// Each gather's {rows, columns}.
  std::vector<std::pair<size_t, size_t>> gathers;

protected:
  absl::Status reduce(float *data, size_t count) override {
    counts.push_back(count);
    for (size_t i = 0; i < count; ++i)
      data[i] *= 2;
    return absl::OkStatus();
  }
  absl::Status gather(const float *part, float *out, size_t rows, size_t columns) override {
    gathers.emplace_back(rows, columns);
    std::fill_n(out, rows * columns * ranks, 0.0f);
    for (size_t t = 0; t < rows; ++t)
      std::copy_n(part + t * columns, columns, out + (t * ranks + self) * columns);
    return absl::OkStatus();
  }

private:
  int ranks, self;
};

/// smallArtifact split over two ranks: 2 heads and 2 kv heads (one per
/// rank), rank 1's own `layers.w` (values ten times rank 0's), the shared
/// `embed`, and an all-reduce step after the layer's kernel.
TestArtifact twoRankArtifact() {
  TestArtifact a = test::smallArtifact();
  a.metadata["model"]["heads"] = 2;
  a.metadata["model"]["kv_heads"] = 2;
  a.weights.push_back({"rank1.layers.w", {1, 4}, {10, 20, 30, 40}});
  for (const char *name : {"decode", "prefill"})
    a.metadata["entry_points"][name]["schedule"]["layer_body"].push_back(
        {{"collective", "all_reduce_sum"}, {"bindings", {{{"kind", "buffer"}, {"id", 0}}}}});
  a.editMetadata = [](json &m) {
    json rank1 = {m["weights"][2], m["weights"][1]};
    rank1[0]["name"] = "layers.w";
    m["weights"].erase(2);
    m["tensor_parallel"] = {{"ranks", 2}, {"rank_weights", {{{"rank", 1}, {"weights", rank1}}}}};
  };
  return a;
}

std::string openError(const TestArtifact &a, int64_t rank = 0) {
  TempFile file("tp.llamac", a.bytes());
  absl::StatusOr<std::unique_ptr<Artifact>> opened = Artifact::open(file.path, rank);
  return opened.ok() ? "" : std::string(opened.status().message());
}

TEST(TensorParallelTest, EachRankOpensWithItsOwnWeights) {
  TempFile file("tp.llamac", twoRankArtifact().bytes());
  for (int64_t rank : {0, 1}) {
    absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path, rank);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ((*a)->rank(), rank);
    EXPECT_EQ((*a)->metadata().tensorParallelRanks(), 2);
    ASSERT_EQ((*a)->weights().size(), 2u);
    EXPECT_EQ((*a)->weights()[0].name, "layers.w");
    EXPECT_EQ(static_cast<const float *>((*a)->weights()[0].data)[3], rank == 0 ? 4.0f : 40.0f);
    // The replicated tensor is the same bytes for both.
    EXPECT_EQ((*a)->weights()[1].name, "embed");
    EXPECT_EQ(static_cast<const float *>((*a)->weights()[1].data)[0], 0.5f);
    // Only kernels are kernels; the collective step is kept in place.
    EXPECT_EQ((*a)->metadata().kernelNames(), std::vector<std::string>{"k0_add"});
    const runtime::Dispatch &step = (*a)->entryPoint("decode")->schedule.layerBody[1];
    EXPECT_EQ(step.collective, runtime::Collective::AllReduceSum);
    EXPECT_TRUE(step.kernel.empty());
    // Every rank's weights are verified, each replicated tensor once.
    uint64_t total = 0;
    EXPECT_TRUE((*a)->verifyWeights([&](uint64_t, uint64_t t) { total = t; }).ok());
    EXPECT_EQ(total, 16u + 256u + 16u);
  }
  EXPECT_THAT(openError(twoRankArtifact(), 2), HasSubstr("has 2 tensor-parallel ranks; there is no rank 2"));
}

TEST(TensorParallelTest, BrokenTablesAreRefused) {
  auto edited = [](std::function<void(json &)> edit) {
    TestArtifact a = twoRankArtifact();
    auto split = a.editMetadata;
    a.editMetadata = [=](json &m) {
      split(m);
      edit(m);
    };
    return openError(a);
  };
  EXPECT_THAT(edited([](json &m) { m["tensor_parallel"]["rank_weights"][0]["weights"][0]["shape"] = {2, 2}; }),
              HasSubstr("tensor_parallel.rank_weights[0] does not list rank 0's weights"));
  EXPECT_THAT(edited([](json &m) { m["tensor_parallel"]["rank_weights"][0]["rank"] = 2; }),
              HasSubstr("tensor_parallel.rank_weights[0].rank is 2, not 1"));
  EXPECT_THAT(edited([](json &m) { m["tensor_parallel"]["ranks"] = 3; }),
              HasSubstr("tensor_parallel.ranks 3 does not split the model's heads"));
  EXPECT_THAT(edited([](json &m) { m["tensor_parallel"]["rank_weights"] = json::array(); }),
              HasSubstr("has 0 tables; ranks 1 to 1 need one each"));
  // The cache holds one rank's kv heads.
  EXPECT_THAT(edited([](json &m) { m["kv_cache"]["kv_heads"] = 2; }),
              HasSubstr("kv_cache does not match the model's layers, kv_heads (per "
                        "tensor-parallel rank)"));
  // A split tensor's bytes must not overlap another's.
  EXPECT_THAT(edited([](json &m) {
                m["tensor_parallel"]["rank_weights"][0]["weights"][0]["offset"] =
                    m["weights"][1]["offset"];
              }),
              HasSubstr("overlaps"));
}

TEST(TensorParallelTest, CollectiveStepsAreCheckedLikeDispatches) {
  auto stepError = [](std::function<void(json &)> edit, bool split = true) {
    TestArtifact a = twoRankArtifact();
    for (const char *name : {"decode", "prefill"})
      edit(a.metadata["entry_points"][name]["schedule"]["layer_body"][1]);
    if (!split) {
      a.metadata["model"]["heads"] = 1;
      a.metadata["model"]["kv_heads"] = 1;
      a.weights.pop_back();
      a.editMetadata = nullptr;
    }
    return openError(a);
  };
  EXPECT_THAT(stepError([](json &) {}, /*split=*/false),
              HasSubstr("collective is only allowed in a tensor-parallel model"));
  EXPECT_THAT(stepError([](json &d) { d["kernel"] = "k0_add"; }),
              HasSubstr("is a collective step; it takes no kernel"));
  EXPECT_THAT(stepError([](json &d) { d["bindings"][0]["id"] = 7; }),
              HasSubstr("of a collective step must be one f32 activation buffer"));
  EXPECT_THAT(stepError([](json &d) { d["collective"] = "broadcast"; }),
              HasSubstr("all_reduce_sum"));
}

/// twoRankArtifact with a split output head: buffer 2, f32 [tokens, 8],
/// gathered into the logits (buffer 1, [tokens, 16]) by the epilogue.
TestArtifact splitHeadArtifact() {
  TestArtifact a = twoRankArtifact();
  for (const char *name : {"decode", "prefill"}) {
    json &entry = a.metadata["entry_points"][name];
    const int64_t tokens = entry["tokens"];
    entry["buffers"].push_back({{"id", 2}, {"dtype", "f32"}, {"shape", {tokens, 8}}});
    entry["schedule"]["epilogue"].push_back(
        {{"collective", "all_gather_columns"},
         {"bindings", {{{"kind", "buffer"}, {"id", 2}}, {{"kind", "buffer"}, {"id", 1}}}}});
  }
  return a;
}

TEST(TensorParallelTest, AllGatherStepsAreChecked) {
  {
    TempFile file("tp-gather.llamac", splitHeadArtifact().bytes());
    absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path, 1);
    ASSERT_TRUE(a.ok()) << a.status();
    const runtime::Dispatch &step = (*a)->entryPoint("prefill")->schedule.epilogue.at(0);
    EXPECT_EQ(step.collective, runtime::Collective::AllGatherColumns);
    EXPECT_EQ(step.bindings.size(), 2u);
  }
  // Each edit applies to both entry points; decode's is the one reported.
  auto gatherError = [](std::function<void(json &step, json &buffers)> edit) {
    TestArtifact a = splitHeadArtifact();
    for (const char *name : {"decode", "prefill"}) {
      json &entry = a.metadata["entry_points"][name];
      edit(entry["schedule"]["epilogue"][0], entry["buffers"]);
    }
    return openError(a);
  };
  const std::string at = "entry_points.decode.schedule.epilogue[0].bindings ";
  const std::string twoBuffers = at + "of an all_gather_columns step must be two activation "
                                      "buffers (the rank's part, then the gathered output)";
  EXPECT_THAT(gatherError([](json &d, json &) { d["bindings"].erase(1); }),
              HasSubstr(twoBuffers));
  EXPECT_THAT(gatherError([](json &d, json &) { d["bindings"].push_back(d["bindings"][1]); }),
              HasSubstr(twoBuffers));
  EXPECT_THAT(gatherError([](json &d, json &) {
                d["bindings"][1] = {{"kind", "weight"}, {"name", "embed"}, {"per_layer", false}};
              }),
              HasSubstr(twoBuffers));
  EXPECT_THAT(gatherError([](json &d, json &) { d["bindings"][1]["id"] = 7; }),
              HasSubstr(at + "refers to unknown buffer 7"));
  EXPECT_THAT(gatherError([](json &d, json &) { d["bindings"][0]["id"] = 1; }),
              HasSubstr(at + "gathers buffer 1 into itself; the output must be another buffer"));
  EXPECT_THAT(gatherError([](json &, json &b) { b[2]["dtype"] = "i32"; }),
              HasSubstr(at + "of an all_gather_columns step must be f32 buffers"));
  EXPECT_THAT(gatherError([](json &, json &b) { b[2]["shape"] = {b[2]["shape"][0], 2, 4}; }),
              HasSubstr(at + "of an all_gather_columns step must be 2-D buffers [rows, columns]"));
  EXPECT_THAT(gatherError([](json &, json &b) { b[2]["shape"][0] = 3; }),
              HasSubstr(at + "gathers 3 rows into 1; the part and the output must have the "
                             "same rows"));
  EXPECT_THAT(gatherError([](json &, json &b) { b[2]["shape"][1] = 4; }),
              HasSubstr(at + "gathers 4 columns from each of 2 ranks into 16 columns, not 8"));
  // What every collective step must be holds for this one too.
  EXPECT_THAT(gatherError([](json &d, json &) { d["scalars"] = {"pos"}; }),
              HasSubstr("is a collective step; it takes no kernel"));
}

TEST(TensorParallelTest, LoadingChecksTheLaunchAgainstTheRanks) {
  TempFile tp("tp.llamac", twoRankArtifact().bytes());
  absl::StatusOr<std::shared_ptr<const Model>> alone = Model::load(tp.path);
  ASSERT_FALSE(alone.ok());
  EXPECT_THAT(std::string(alone.status().message()),
              HasSubstr("is split over 2 tensor-parallel ranks; launch one process per rank: "
                        "mpirun -np 2 llama-run " + tp.path));
  ModelOptions three;
  three.communicator = std::make_shared<RecordingCommunicator>(3);
  absl::StatusOr<std::shared_ptr<const Model>> wrong = Model::load(tp.path, three);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr("is split over 2 tensor-parallel ranks, but 3 processes were started; "
                        "launch it with mpirun -np 2"));
  TempFile single("single.llamac", test::smallArtifact().bytes());
  ModelOptions two;
  two.communicator = std::make_shared<RecordingCommunicator>(2);
  absl::StatusOr<std::shared_ptr<const Model>> notSplit = Model::load(single.path, two);
  ASSERT_FALSE(notSplit.ok());
  EXPECT_THAT(std::string(notSplit.status().message()),
              HasSubstr("is not tensor-parallel, but 2 processes were started"));
}

TEST(TensorParallelTest, TheCpuDriverRunsAllReduceStepsOnItsCommunicator) {
  auto device = testing::startCpuDevice(1);
  ASSERT_TRUE(device);
  RecordingCommunicator communicator(2);
  std::vector<float> partial = {1, 2, 3, 4, 5};
  hal::BoundDispatch step;
  step.kernel = "all_reduce";
  step.communicator = &communicator;
  step.reduceData = partial.data();
  step.reduceCount = partial.size();
  hal::Program program;
  program.layers = 3;
  program.layerBody.push_back(step);
  ASSERT_TRUE(device->run(program, hal::Invocation{}).ok());
  // Once per layer, in place, on the whole buffer; timed.
  EXPECT_EQ(communicator.counts, (std::vector<size_t>{5, 5, 5}));
  EXPECT_EQ(partial, (std::vector<float>{8, 16, 24, 32, 40}));
  EXPECT_EQ(communicator.collectiveStats().allReduces, 3u);
  EXPECT_EQ(communicator.collectiveStats().bytes, 3u * 5 * sizeof(float));
}

/// A bound all-gather step of `rows` x `columns` from `part` into `out`.
hal::BoundDispatch gatherStep(comm::Communicator &communicator, std::vector<float> &part,
                              std::vector<float> &out, uint64_t rows, uint64_t columns) {
  hal::BoundDispatch step;
  step.kernel = "all_gather";
  step.communicator = &communicator;
  step.collective = hal::CollectiveKind::AllGatherColumns;
  step.gatherPart = part.data();
  step.gatherOut = out.data();
  step.gatherRows = rows;
  step.gatherColumns = columns;
  return step;
}

TEST(TensorParallelTest, TheCpuDriverRunsAllGatherStepsOnItsCommunicator) {
  auto device = testing::startCpuDevice(1);
  ASSERT_TRUE(device);
  RecordingCommunicator communicator(2, /*rank=*/1);
  std::vector<float> part = {1, 2, 3, 4, 5, 6};
  std::vector<float> out(12, -1.0f);
  hal::BoundDispatch step = gatherStep(communicator, part, out, 2, 3);
  hal::Program program;
  program.epilogue.push_back(step);
  ASSERT_TRUE(device->run(program, hal::Invocation{}).ok());
  // The part whole, into the output; rank 1's columns are the second half
  // of each row.
  EXPECT_EQ(communicator.gathers, (std::vector<std::pair<size_t, size_t>>{{2, 3}}));
  EXPECT_TRUE(communicator.counts.empty());
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6}));
  EXPECT_EQ(communicator.collectiveStats().allGathers, 1u);
  EXPECT_EQ(communicator.collectiveStats().gatherBytes, 12u * sizeof(float));
  EXPECT_EQ(communicator.collectiveStats().allReduces, 0u);
}

// A prefill chunk's gather moves the rows the call fills, not its padding.
TEST(TensorParallelTest, ThePrefillGatherMovesTheFilledRowsOnly) {
  auto device = testing::startCpuDevice(1);
  ASSERT_TRUE(device);
  RecordingCommunicator communicator(2);
  std::vector<float> part(4 * 3, 7.0f);
  std::vector<float> out(4 * 6, -1.0f);
  hal::BoundDispatch step = gatherStep(communicator, part, out, 4, 3);
  step.gatherFilledRowsOnly = true;
  hal::Program program;
  program.epilogue.push_back(step);
  hal::Invocation twoRows;
  twoRows.rows = 2;
  ASSERT_TRUE(device->run(program, twoRows).ok());
  step.gatherFilledRowsOnly = false; // a one-row part (decode, prefill_last): all of it
  program.epilogue = {step};
  ASSERT_TRUE(device->run(program, twoRows).ok());
  EXPECT_EQ(communicator.gathers, (std::vector<std::pair<size_t, size_t>>{{2, 3}, {4, 3}}));
}

// The fake model with its head split over two ranks: the logits kernel
// writes rank 0's [rows, vocab / 2] part; the bound gather step, with rows
// and columns from the part's shape, makes it the first half of the logits.
TEST(TensorParallelTest, ASplitHeadIsGatheredIntoTheLogits) {
  test::FakeModelSpec spec;
  spec.splitHeadRanks = 2;
  TempFile file("tp-split-head.llamac", test::fakeModel(spec).bytes());
  ModelOptions options;
  options.threads = 1;
  auto communicator = std::make_shared<RecordingCommunicator>(2);
  options.communicator = communicator;
  absl::StatusOr<std::unique_ptr<Session>> session = test::openSession(file.path, options);
  ASSERT_TRUE(session.ok()) << session.status();
  // Prefill's 4-row chunk, then a decode step: the sums stay below vocab /
  // 2, so the one-hot lands in the gathered half at the fake model's token.
  absl::StatusOr<std::vector<float>> logits = (*session)->append({1, 5, 7});
  ASSERT_TRUE(logits.ok()) << logits.status();
  ASSERT_EQ(logits->size(), size_t(test::kVocab));
  EXPECT_EQ(std::max_element(logits->begin(), logits->end()) - logits->begin(), 13);
  logits = (*session)->append({13});
  ASSERT_TRUE(logits.ok()) << logits.status();
  EXPECT_EQ(std::max_element(logits->begin(), logits->end()) - logits->begin(), 26);
  EXPECT_EQ((*logits)[26], 1.0f);
  const size_t half = test::kVocab / 2;
  // Rank 1's half is what the recording communicator stands in for it:
  // zeros.
  EXPECT_TRUE(std::all_of(logits->begin() + half, logits->end(),
                          [](float v) { return v == 0.0f; }));
  // The prefill chunk's 3 filled rows of 4, then decode's one.
  EXPECT_EQ(communicator->gathers,
            (std::vector<std::pair<size_t, size_t>>{{3, half}, {1, half}}));
}

// The bench counts the gather apart from the all-reduces (this model has
// none): one per decode step, of the [1, vocab] logits; the profile names
// the step.
TEST(TensorParallelTest, TheBenchReportsTheGathersOfASplitHead) {
  test::FakeModelSpec spec;
  spec.splitHeadRanks = 2;
  TempFile file("tp-split-head-bench.llamac", test::fakeModel(spec).bytes());
  ModelOptions options;
  options.threads = 1;
  options.communicator = std::make_shared<RecordingCommunicator>(2);
  absl::StatusOr<std::unique_ptr<Session>> session = test::openSession(file.path, options);
  ASSERT_TRUE(session.ok()) << session.status();
  bench::BenchOptions benchOptions;
  benchOptions.promptTokens = {4};
  benchOptions.newTokens = 4;
  benchOptions.repeats = 1;
  benchOptions.probeBytes = 1 << 20;
  absl::StatusOr<bench::BenchResult> r = bench::runBench(**session, benchOptions);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->tensorParallel);
  const double logitsBytes = test::kVocab * sizeof(float);
  nlohmann::ordered_json tp = bench::benchJson(*r)["stats"]["tensor_parallel"];
  EXPECT_EQ(tp["all_reduces_per_step"], 0.0);
  EXPECT_EQ(tp["all_gathers_per_step"], 1.0);
  EXPECT_EQ(tp["all_gather_bytes_per_step"], logitsBytes);
  EXPECT_TRUE(tp["all_gather_ms_per_step"].is_number());
  // The gather's time is part of the decode's: a share in [0, 1].
  EXPECT_GE(tp["all_gather_share_of_decode"].get<double>(), 0.0);
  EXPECT_LE(tp["all_gather_share_of_decode_max"].get<double>(), 1.0);
  EXPECT_THAT(bench::benchTable(*r),
              HasSubstr("0 all-reduces of 0.00 MB and 1 all-gather of 0.13 MB per decode step"));
  EXPECT_THAT(bench::benchTable(*r), HasSubstr("all-gather share of decode (%)"));

  absl::StatusOr<bench::KernelProfile> profile =
      bench::profileDecode(**session, {1, 5}, /*steps=*/3, /*runs=*/1);
  ASSERT_TRUE(profile.ok()) << profile.status();
  auto gather = std::find_if(profile->kernels.begin(), profile->kernels.end(),
                             [](const bench::KernelTime &k) { return k.kernel == "all-gather"; });
  ASSERT_NE(gather, profile->kernels.end());
  EXPECT_EQ(gather->calls, 3);
}

TEST(TensorParallelTest, ASingleProcessGatherIsThePartItself) {
  comm::SingleProcessCommunicator one;
  std::vector<float> part = {1.5f, -2, 3, 4}, out(4, 0.0f);
  ASSERT_TRUE(one.allGatherColumns(part.data(), out.data(), 2, 2).ok());
  EXPECT_EQ(out, part);
  EXPECT_EQ(one.collectiveStats().allGathers, 1u);
  EXPECT_EQ(one.collectiveStats().gatherBytes, 4u * sizeof(float));
}

/// Reads a whole file of f32 values.
std::vector<float> readFloats(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> values(bytes.size() / sizeof(float));
  std::copy_n(bytes.data(), values.size() * sizeof(float), reinterpret_cast<char *>(values.data()));
  return values;
}

/// What every rank's probe file must hold: for each of the probe's gathers
/// ({rows, columns}), row t is rank r's (t, c) = 1000 r + 10 t + c for every
/// rank in order.
std::vector<float> expectedGathers(int ranks) {
  std::vector<float> expected;
  for (auto [rows, columns] : {std::pair{3, 4}, {1, 5}})
    for (int t = 0; t < rows; ++t)
      for (int r = 0; r < ranks; ++r)
        for (int c = 0; c < columns; ++c)
          expected.push_back(1000.0f * r + 10.0f * t + c);
  return expected;
}

class MpiAllGather : public ::testing::TestWithParam<int> {};

// Real ranks, each its own process: MPI_Allgather with the strided
// datatype puts every rank's columns in place on every rank.
TEST_P(MpiAllGather, EveryRankGetsEveryRanksColumns) {
  if (std::string(LLAMAC_MPIRUN).empty() || std::string(LLAMAC_MPI_GATHER_PROBE).empty())
    GTEST_SKIP() << "no mpirun or no MPI at build time (apt install openmpi-bin libopenmpi-dev)";
  const int ranks = GetParam();
  const char *dir = std::getenv("TMPDIR");
  const std::string out = std::string(dir && *dir ? dir : "/tmp") + "/llamac-rt-" +
                          std::to_string(getpid()) + "-gather" + std::to_string(ranks);
  for (int r = 0; r < ranks; ++r)
    std::remove((out + ".rank" + std::to_string(r) + ".f32").c_str());
  // As root (CI) Open MPI must be told it may; more ranks than cores is
  // --oversubscribe; mpirun would otherwise forward the runner's stdin.
  const std::string command = std::string(LLAMAC_MPIRUN) +
                              " --allow-run-as-root --oversubscribe --stdin none -np " +
                              std::to_string(ranks) + " " + LLAMAC_MPI_GATHER_PROBE + " " + out +
                              " < /dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  for (int r = 0; r < ranks; ++r) {
    const std::string path = out + ".rank" + std::to_string(r) + ".f32";
    EXPECT_EQ(readFloats(path), expectedGathers(ranks)) << "rank " << r;
    std::remove(path.c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, MpiAllGather, ::testing::Values(2, 3),
                         [](const ::testing::TestParamInfo<int> &info) {
                           return "np" + std::to_string(info.param);
                         });

/// Runs `command`; its stdout, or "" when it fails.
std::string outputOf(const std::string &command) {
  std::string out;
  if (FILE *pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
      out.append(buffer, n);
    if (pclose(pipe) != 0)
      out.clear();
  }
  return out;
}

// llama-run itself on two MPI ranks of the split fake model: both ranks'
// one-hot parts are gathered, so the logits hold the token at sum % (vocab
// / 2) in either half and greedy decoding takes the first; the bench
// counts one gather of the [1, vocab] logits per step.
TEST(MpiAllGatherLlamaRun, TwoRanksGatherASplitHead) {
  if (std::string(LLAMAC_MPIRUN).empty() || std::string(LLAMAC_MPI_GATHER_PROBE).empty())
    GTEST_SKIP() << "no mpirun or no MPI at build time (apt install openmpi-bin libopenmpi-dev)";
  test::FakeModelSpec spec;
  spec.splitHeadRanks = 2;
  TempFile file("tp-split-head-mpi.llamac", test::fakeModel(spec).bytes());
  // Open MPI keeps its runtime's allocations to the end of the process
  // (test/unit/MpiSanitizerHooks.h), and llama-run carries no suppressions
  // of them: in a sanitized build, leaks are checked by the in-process
  // tests above, not in these ranks.
  const std::string mpirun = std::string(LLAMAC_MPIRUN) +
                             " --allow-run-as-root --oversubscribe --stdin none "
                             "-x ASAN_OPTIONS=detect_leaks=0 -np 2 " +
                             LLAMAC_LLAMA_RUN_PATH + " ";
  std::string out = outputOf(mpirun + file.path +
                             " --prompt 'Once upon a time' --max-new-tokens 4 --threads 1 "
                             "--json --quiet < /dev/null 2>/dev/null");
  json run = json::parse(test::lastLine(out), nullptr, false);
  ASSERT_TRUE(run.is_object()) << out;
  std::vector<int64_t> sequence = run["prompt_token_ids"];
  std::vector<int64_t> expected;
  for (int step = 0; step < 4; ++step) {
    int64_t sum = 0;
    for (int64_t id : sequence)
      sum += id;
    expected.push_back(sum % (test::kVocab / 2));
    sequence.push_back(expected.back());
  }
  EXPECT_EQ(run["generated_token_ids"].get<std::vector<int64_t>>(), expected);

  out = outputOf(mpirun + "bench " + file.path +
                 " --prompt-tokens 4 --new-tokens 4 --repeats 1 --probe-mib 1 --threads 1 "
                 "--json --quiet < /dev/null 2>/dev/null");
  json bench = json::parse(test::lastLine(out), nullptr, false);
  ASSERT_TRUE(bench.is_object()) << out;
  const json &tp = bench["stats"]["tensor_parallel"];
  EXPECT_EQ(tp["communicator"], "mpi");
  EXPECT_EQ(tp["all_gathers_per_step"], 1.0);
  EXPECT_EQ(tp["all_gather_bytes_per_step"], double(test::kVocab * sizeof(float)));
  EXPECT_GE(tp["all_gather_ms_per_step"].get<double>(), 0.0);
}

/// Two ranks whose only transport is a sum, as a communicator an
/// application brings may be: rank 1 of them, whose `reduce` adds what rank
/// 0 contributes to the same call (its part in its columns, zeros
/// elsewhere).
class SumOnlyCommunicator final : public comm::Communicator {
public:
  explicit SumOnlyCommunicator(std::vector<float> rank0) : rank0(std::move(rank0)) {}
  int rank() const override { return 1; }
  int size() const override { return 2; }
  std::string name() const override { return "sum-only"; }
  absl::Status firstError(const absl::Status &local) override { return local; }
  [[noreturn]] void abortAll(int) override { std::abort(); }

protected:
  absl::Status reduce(float *data, size_t count) override {
    if (count != rank0.size())
      return absl::InternalError("unexpected count");
    for (size_t i = 0; i < count; ++i)
      data[i] += rank0[i];
    return absl::OkStatus();
  }

private:
  std::vector<float> rank0;
};

TEST(TensorParallelTest, ACommunicatorThatOnlySumsGathersByTheDefault) {
  // 3 rows of 2 columns a rank. Rank 0's contribution to the sum: its
  // part (100 + 10 t + c) in columns 0-1 of each row of 4, zeros in 2-3.
  const size_t rows = 3, columns = 2;
  std::vector<float> rank0(rows * 2 * columns, 0.0f), mine(rows * columns);
  for (size_t t = 0; t < rows; ++t)
    for (size_t c = 0; c < columns; ++c) {
      rank0[t * 4 + c] = 100.0f + 10.0f * t + c;
      mine[t * columns + c] = 200.0f + 10.0f * t + c;
    }
  SumOnlyCommunicator comm(rank0);
  std::vector<float> out(rows * 2 * columns, -1.0f);
  ASSERT_TRUE(comm.allGatherColumns(mine.data(), out.data(), rows, columns).ok());
  for (size_t t = 0; t < rows; ++t)
    for (size_t r = 0; r < 2; ++r)
      for (size_t c = 0; c < columns; ++c)
        EXPECT_EQ(out[t * 4 + r * columns + c], 100.0f * (r + 1) + 10.0f * t + c)
            << "row " << t << ", rank " << r << ", column " << c;
  EXPECT_EQ(comm.collectiveStats().allGathers, 1u);
  EXPECT_EQ(comm.collectiveStats().allReduces, 0u);
}

TEST(TensorParallelTest, ASingleProcessSumIsTheValueItself) {
  comm::SingleProcessCommunicator one;
  std::vector<float> values = {1.5f, -2};
  ASSERT_TRUE(one.allReduceSum(values.data(), values.size()).ok());
  EXPECT_EQ(values, (std::vector<float>{1.5f, -2}));
  EXPECT_EQ(one.size(), 1);
  EXPECT_EQ(one.rank(), 0);
}

} // namespace
} // namespace llamac
