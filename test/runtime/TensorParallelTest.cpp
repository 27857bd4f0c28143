//===- TensorParallelTest.cpp - TP artifacts, ranks and all-reduce steps --===//
//
// The runtime's side of docs/tensor-parallel.md without MPI: a synthetic
// two-rank artifact opens for either rank with that rank's weights; broken
// tables, collective steps and KV caches are refused; Model::load checks the
// launch against the rank count; and the CPU driver runs an all-reduce step
// on its communicator, between kernels, with the buffer it binds.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Model.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/comm/Communicator.h"
#include "runtime/hal/Program.h"
#include "test/runtime/StartCpuDevice.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace llamac {
namespace {

using runtime::Artifact;
using test::TempFile;
using test::TestArtifact;
using ::testing::HasSubstr;
using json = nlohmann::json;

/// A communicator of `ranks` processes that records what it is asked to sum
/// and stands for the other ranks by doubling the values (what a sum over
/// two equal ranks gives).
class RecordingCommunicator final : public comm::Communicator {
public:
  explicit RecordingCommunicator(int ranks, int rank = 0) : ranks(ranks), self(rank) {}
  int rank() const override { return self; }
  int size() const override { return ranks; }
  std::string name() const override { return "recording"; }
  absl::Status firstError(const absl::Status &local) override { return local; }
  [[noreturn]] void abortAll(int) override { std::abort(); }
  std::vector<size_t> counts;

protected:
  absl::Status reduce(float *data, size_t count) override {
    counts.push_back(count);
    for (size_t i = 0; i < count; ++i)
      data[i] *= 2;
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
