//===- NcclCommunicatorTest.cpp - NCCL / RCCL over a fake library ---------===//
//
// NcclCommunicator against FakeNccl.cpp, loaded by path through
// LLAMAC_NCCL_LIBRARY / LLAMAC_RCCL_LIBRARY like the real libnccl.so.2 and
// librccl.so.1: the bootstrap (rank 0's unique id broadcast, every rank's
// ncclCommInitRank), the all-reduce's arguments and stream, the sum over
// ranks (threads of this process, over an in-process bootstrap), the
// all-gather's layout (one grouped ncclAllGather per row), and the errors:
// a missing library, a failing call with NCCL's own text, a rank that fails
// alone. Then the GPU device's all-reduce and all-gather steps over it.
//
//===----------------------------------------------------------------------===//

#include "runtime/comm/NcclCommunicator.h"
#include "runtime/hal/drivers/gpu/GpuDevice.h"
#include "test/runtime/FakeGpuApi.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <thread>

namespace llamac {
namespace {

using ::testing::HasSubstr;

/// The fake's controls, from the same loaded library the communicator uses.
/// A library that cannot be loaded (or lacks a control) fails the test with
/// dlerror's text; the controls then do nothing, so the test fails on its
/// expectations instead of calling through a null pointer.
struct FakeNccl {
  FakeNccl() {
    // Set first: without the fake, the communicator must not find a real NCCL.
    setenv(comm::kNcclLibraryOverride, LLAMAC_FAKE_NCCL_PATH, 1);
    setenv(comm::kRcclLibraryOverride, LLAMAC_FAKE_NCCL_PATH, 1);
    handle = dlopen(LLAMAC_FAKE_NCCL_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      ADD_FAILURE() << "cannot load the fake NCCL library: " << dlerror();
      return;
    }
    control(reset, "fakeNcclReset");
    control(fail, "fakeNcclFail");
    control(calls, "fakeNcclCalls");
    control(lastStream, "fakeNcclLastStream");
    reset();
  }
  ~FakeNccl() {
    unsetenv(comm::kNcclLibraryOverride);
    unsetenv(comm::kRcclLibraryOverride);
    if (handle)
      dlclose(handle);
  }
  std::string log() const { return calls(); }

  void *handle = nullptr;
  void (*reset)() = [] {};
  void (*fail)(const char *call, int result, int rank) = [](const char *, int, int) {};
  const char *(*calls)() = [] { return ""; };
  void *(*lastStream)() = []() -> void * { return nullptr; };

private:
  template <typename Function> void control(Function &function, const char *name) {
    if (void *symbol = dlsym(handle, name))
      function = reinterpret_cast<Function>(symbol);
    else
      ADD_FAILURE() << "the fake NCCL library has no " << name;
  }
};

/// Ranks that are threads of this process: what MPI is to NCCL in
/// llama-run (rank, size, broadcast, agreeing on errors), in memory.
class ThreadRanks {
public:
  explicit ThreadRanks(int size) : size(size), slots(size) {}

  /// Every rank deposits `mine`, then `read` runs once all have, with
  /// every rank's deposit; no rank returns (and changes what it deposited)
  /// before every rank has read.
  template <typename Read> void exchange(int rank, const void *mine, Read read) {
    std::unique_lock<std::mutex> lock(mutex);
    const unsigned long round = rounds;
    slots[rank] = mine;
    if (++arrived == size) {
      reading = true;
      changed.notify_all();
    } else {
      changed.wait(lock, [&] { return reading; });
    }
    read(slots);
    if (++done == size) {
      arrived = done = 0;
      reading = false;
      ++rounds;
      changed.notify_all();
    } else {
      changed.wait(lock, [&] { return rounds != round; });
    }
  }

  const int size;

private:
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<const void *> slots;
  int arrived = 0, done = 0;
  bool reading = false;
  unsigned long rounds = 0;
};

class ThreadCommunicator final : public comm::Communicator {
public:
  ThreadCommunicator(ThreadRanks &ranks, int self) : ranks(ranks), self(self) {}
  int rank() const override { return self; }
  int size() const override { return ranks.size; }
  std::string name() const override { return "threads"; }
  absl::Status broadcast(void *data, size_t bytes, int root) override {
    ranks.exchange(self, data, [&](const std::vector<const void *> &all) {
      if (self != root)
        std::memcpy(data, all[root], bytes);
    });
    return absl::OkStatus();
  }
  absl::Status firstError(const absl::Status &local) override {
    absl::Status first;
    int firstRank = INT_MAX;
    ranks.exchange(self, &local, [&](const std::vector<const void *> &all) {
      for (int r = 0; r < ranks.size && firstRank == INT_MAX; ++r)
        if (const auto *s = static_cast<const absl::Status *>(all[r]); !s->ok()) {
          first = *s;
          firstRank = r;
        }
    });
    if (first.ok() || firstRank == 0)
      return first;
    return absl::Status(first.code(), "rank " + std::to_string(firstRank) + ": " +
                                          std::string(first.message()));
  }
  [[noreturn]] void abortAll(int) override { std::abort(); }

protected:
  absl::Status reduce(float *, size_t) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::Status gather(const float *, float *, size_t, size_t) override {
    return absl::UnimplementedError("not in this test");
  }

private:
  ThreadRanks &ranks;
  int self;
};

/// Runs `body(rank, bootstrap)` on `size` threads, one per rank.
template <typename Body> void onRanks(int size, Body body) {
  ThreadRanks ranks(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back(
        [&, r] { body(r, std::make_shared<ThreadCommunicator>(ranks, r)); });
  for (std::thread &t : threads)
    t.join();
}

TEST(NcclCommunicatorTest, TwoRanksSumInPlaceOnTheGivenStream) {
  FakeNccl fake;
  void *const stream = reinterpret_cast<void *>(0x5a5a);
  std::vector<float> sums[2];
  onRanks(2, [&](int rank, std::shared_ptr<comm::Communicator> bootstrap) {
    absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
        comm::NcclCommunicator::create("cuda", bootstrap);
    ASSERT_TRUE(nccl.ok()) << nccl.status();
    EXPECT_EQ((*nccl)->name(), "nccl");
    EXPECT_EQ((*nccl)->rank(), rank);
    EXPECT_EQ((*nccl)->size(), 2);
    EXPECT_EQ((*nccl)->libraryVersion(), 22809);
    EXPECT_EQ((*nccl)->memory(), comm::Communicator::Memory::Device);
    std::vector<float> data = {1.0f + rank, 10.0f * (rank + 1), -0.5f, 0.25f * rank};
    absl::Status s = (*nccl)->enqueueAllReduceSum(data.data(), data.size(), stream);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ((*nccl)->collectiveStats().allReduces, 1u);
    EXPECT_EQ((*nccl)->collectiveStats().bytes, 16u);
    sums[rank] = data;
  });
  for (const std::vector<float> &sum : sums)
    EXPECT_THAT(sum, ::testing::ElementsAre(3.0f, 30.0f, -1.0f, 0.25f));
  EXPECT_EQ(fake.lastStream(), stream);
  std::string log = fake.log();
  // One id, from rank 0, that both ranks joined with; the sum in place, f32.
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 9) << log;
  EXPECT_EQ(log.find("ncclGetUniqueId"), log.rfind("ncclGetUniqueId")) << log;
  EXPECT_THAT(log, HasSubstr("ncclCommInitRank nranks=2 rank=0 id=fake-nccl-"));
  EXPECT_THAT(log, HasSubstr("ncclCommInitRank nranks=2 rank=1 id=fake-nccl-"));
  EXPECT_THAT(log, HasSubstr("ncclAllReduce count=4 datatype=7 op=0 in-place"));
  EXPECT_LT(log.find("ncclGetUniqueId"), log.find("ncclCommInitRank")) << log;
  EXPECT_LT(log.rfind("ncclAllReduce"), log.find("ncclCommDestroy")) << log;
}

/// Count of `needle` in `text`.
size_t occurrences(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

// Rank r's part, row t, column c holds 1000 r + 10 t + c, so every output
// element says where it came from; the expected output is built from that
// rule, not from the parts.
TEST(NcclCommunicatorTest, ThreeRanksGatherColumnsRowByRowInOneGroup) {
  FakeNccl fake;
  void *const stream = reinterpret_cast<void *>(0x6b6b);
  constexpr int kRanks = 3;
  constexpr size_t kRows = 3, kColumns = 2;
  std::vector<float> outputs[kRanks];
  onRanks(kRanks, [&](int rank, std::shared_ptr<comm::Communicator> bootstrap) {
    absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
        comm::NcclCommunicator::create("cuda", bootstrap);
    ASSERT_TRUE(nccl.ok()) << nccl.status();
    std::vector<float> part;
    for (size_t t = 0; t < kRows; ++t)
      for (size_t c = 0; c < kColumns; ++c)
        part.push_back(1000.0f * rank + 10.0f * t + c);
    std::vector<float> out(kRows * kColumns * kRanks, -1.0f);
    absl::Status s =
        (*nccl)->enqueueAllGatherColumns(part.data(), out.data(), kRows, kColumns, stream);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ((*nccl)->collectiveStats().allGathers, 1u);
    EXPECT_EQ((*nccl)->collectiveStats().gatherBytes, kRows * kColumns * kRanks * sizeof(float));
    EXPECT_EQ((*nccl)->collectiveStats().allReduces, 0u);
    outputs[rank] = out;
  });
  std::vector<float> expected;
  for (size_t t = 0; t < kRows; ++t)
    for (int r = 0; r < kRanks; ++r)
      for (size_t c = 0; c < kColumns; ++c)
        expected.push_back(1000.0f * r + 10.0f * t + c);
  for (const std::vector<float> &out : outputs)
    EXPECT_EQ(out, expected);
  EXPECT_EQ(fake.lastStream(), stream);
  // Each rank: one group holding one gather of `columns` floats per row.
  std::string log = fake.log();
  EXPECT_EQ(occurrences(log, "ncclGroupStart"), size_t(kRanks)) << log;
  EXPECT_EQ(occurrences(log, "ncclAllGather count=2 datatype=7 grouped"), kRows * kRanks) << log;
  EXPECT_EQ(occurrences(log, "ncclAllGather"), kRows * kRanks) << log;
  EXPECT_EQ(occurrences(log, "ncclGroupEnd"), size_t(kRanks)) << log;
  EXPECT_LT(log.rfind("ncclAllGather"), log.rfind("ncclGroupEnd")) << log;
}

// NCCL takes at most 2048 calls in a group (the fake refuses more): a
// prefill chunk of more rows is gathered in several groups.
TEST(NcclCommunicatorTest, ManyRowsAreGatheredInSeveralGroups) {
  FakeNccl fake;
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::NcclCommunicator::create("cuda", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  const size_t rows = comm::NcclCommunicator::kMaxGroupedCalls + 1;
  std::vector<float> part(rows * 2), out(rows * 2, -1.0f);
  for (size_t i = 0; i < part.size(); ++i)
    part[i] = static_cast<float>(i);
  absl::Status s = (*nccl)->enqueueAllGatherColumns(part.data(), out.data(), rows, 2, nullptr);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out, part);
  std::string log = fake.log();
  EXPECT_EQ(occurrences(log, "ncclGroupStart"), 2u);
  EXPECT_EQ(occurrences(log, "ncclGroupEnd"), 2u);
  EXPECT_EQ(occurrences(log, "ncclAllGather count=2 datatype=7 grouped"), rows);
}

TEST(NcclCommunicatorTest, AFailingAllGatherStillEndsItsGroup) {
  FakeNccl fake;
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::NcclCommunicator::create("cuda", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  fake.fail("ncclAllGather", 4, -1);
  float part[4] = {}, out[4] = {};
  EXPECT_EQ(std::string((*nccl)->enqueueAllGatherColumns(part, out, 2, 2, nullptr).message()),
            std::string(LLAMAC_FAKE_NCCL_PATH) +
                ": ncclAllGather failed: fake nccl: invalid argument (error 4)");
  // The first row's failure stops the rows; the group is closed all the same.
  std::string log = fake.log();
  EXPECT_EQ(occurrences(log, "ncclAllGather"), 1u) << log;
  EXPECT_LT(log.find("ncclAllGather"), log.find("ncclGroupEnd")) << log;
  // Host memory is MPI's: refused, before any call.
  EXPECT_EQ((*nccl)->allGatherColumns(part, out, 2, 2).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(occurrences(fake.log(), "ncclAllGather"), 1u);
}

TEST(NcclCommunicatorTest, HipDevicesUseRccl) {
  FakeNccl fake;
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> rccl =
      comm::NcclCommunicator::create("hip", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_TRUE(rccl.ok()) << rccl.status();
  EXPECT_EQ((*rccl)->name(), "rccl");
  EXPECT_THAT(fake.log(), HasSubstr("ncclCommInitRank nranks=1 rank=0"));
}

TEST(NcclCommunicatorTest, HostMemoryIsRefused) {
  FakeNccl fake;
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::NcclCommunicator::create("cuda", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  float x = 1;
  EXPECT_EQ((*nccl)->allReduceSum(&x, 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(fake.log(), ::testing::Not(HasSubstr("ncclAllReduce")));
}

TEST(NcclCommunicatorTest, AMissingLibraryIsOneErrorThatSaysWhatToInstall) {
  setenv(comm::kNcclLibraryOverride, "/nonexistent/libnccl.so.2", 1);
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::NcclCommunicator::create("cuda", std::make_shared<comm::SingleProcessCommunicator>());
  unsetenv(comm::kNcclLibraryOverride);
  ASSERT_FALSE(nccl.ok());
  std::string message(nccl.status().message());
  EXPECT_THAT(message, HasSubstr("/nonexistent/libnccl.so.2 not found"));
  EXPECT_THAT(message, HasSubstr("install libnccl2"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(NcclCommunicatorTest, OtherDevicesHaveNoGpuCommunicator) {
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> none =
      comm::NcclCommunicator::create("cpu", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("no GPU communicator for cpu"));
}

TEST(NcclCommunicatorTest, AFailingInitCarriesNcclsText) {
  FakeNccl fake;
  fake.fail("ncclCommInitRank", /*ncclSystemError*/ 2, -1);
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::NcclCommunicator::create("cuda", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_FALSE(nccl.ok());
  EXPECT_EQ(nccl.status().message(),
            std::string(LLAMAC_FAKE_NCCL_PATH) +
                ": ncclCommInitRank failed: fake nccl: unhandled system error (error 2)");
  EXPECT_THAT(fake.log(), ::testing::Not(HasSubstr("ncclCommDestroy")));
}

TEST(NcclCommunicatorTest, ARankThatFailsAloneFailsEveryRankWithItsError) {
  FakeNccl fake;
  fake.fail("ncclCommInitRank", /*ncclInvalidUsage*/ 5, 1);
  std::string errors[2];
  onRanks(2, [&](int rank, std::shared_ptr<comm::Communicator> bootstrap) {
    absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
        comm::NcclCommunicator::create("cuda", bootstrap);
    ASSERT_FALSE(nccl.ok());
    errors[rank] = std::string(nccl.status().message());
  });
  EXPECT_THAT(errors[0], HasSubstr("rank 1: "));
  EXPECT_THAT(errors[0], HasSubstr("ncclCommInitRank failed: fake nccl: invalid usage"));
  EXPECT_EQ(errors[0], errors[1]);
  // Rank 0's communicator, which NCCL made, is destroyed again.
  EXPECT_THAT(fake.log(), HasSubstr("ncclCommDestroy"));
}

TEST(NcclCommunicatorTest, AFailingAllReduceIsAnError) {
  FakeNccl fake;
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::NcclCommunicator::create("cuda", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  fake.fail("ncclAllReduce", 4, -1);
  float x = 1;
  EXPECT_THAT(std::string((*nccl)->enqueueAllReduceSum(&x, 1, nullptr).message()),
              HasSubstr("ncclAllReduce failed: fake nccl: invalid argument"));
}

// The GPU device runs a schedule's all-reduce step through the GPU
// communicator, on its own stream, between the kernels.
TEST(NcclCommunicatorTest, TheGpuDeviceSumsOnItsStream) {
  FakeNccl fake;
  auto api = std::make_unique<test::FakeGpuApi>();
  absl::StatusOr<std::unique_ptr<hal::gpu::GpuDevice>> device =
      hal::gpu::GpuDevice::create(std::move(api));
  ASSERT_TRUE(device.ok()) << device.status();
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::NcclCommunicator::create("cuda", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  absl::StatusOr<std::unique_ptr<hal::Buffer>> buffer = (*device)->allocate(64);
  ASSERT_TRUE(buffer.ok());

  hal::Program p;
  p.layers = 2;
  hal::BoundDispatch reduce;
  reduce.kernel = "all_reduce";
  reduce.communicator = nccl->get();
  reduce.reduceData = static_cast<float *>((*buffer)->data());
  reduce.reduceCount = 16;
  p.layerBody = {reduce};
  absl::Status s = (*device)->run(p, {});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(fake.lastStream(), test::FakeGpuApi::kFakeStream);
  // Once per layer, in place, f32 sum.
  std::string log = fake.log();
  size_t steps = 0;
  for (size_t at = log.find("ncclAllReduce count=16 datatype=7 op=0 in-place");
       at != std::string::npos; at = log.find("ncclAllReduce count=16", at + 1))
    ++steps;
  EXPECT_EQ(steps, 2u) << log;

  // MPI sums host memory: the device refuses it, with the reason.
  comm::SingleProcessCommunicator host;
  p.layerBody[0].communicator = &host;
  EXPECT_THAT(std::string((*device)->run(p, {}).message()),
              HasSubstr("needs a GPU communicator (NCCL or RCCL), not single-process"));
}

// An all-gather step (the split output head's logits) runs on the stream
// too, its rows from the bound shape. One rank: the output is the part.
TEST(NcclCommunicatorTest, TheGpuDeviceGathersOnItsStream) {
  FakeNccl fake;
  absl::StatusOr<std::unique_ptr<hal::gpu::GpuDevice>> device =
      hal::gpu::GpuDevice::create(std::make_unique<test::FakeGpuApi>());
  ASSERT_TRUE(device.ok()) << device.status();
  absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::NcclCommunicator::create("cuda", std::make_shared<comm::SingleProcessCommunicator>());
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  absl::StatusOr<std::unique_ptr<hal::Buffer>> part = (*device)->allocate(32);
  absl::StatusOr<std::unique_ptr<hal::Buffer>> out = (*device)->allocate(32);
  ASSERT_TRUE(part.ok() && out.ok());
  const float values[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  std::memcpy((*part)->data(), values, sizeof values);

  hal::Program p;
  p.layers = 2;
  hal::BoundDispatch gather;
  gather.kernel = "all_gather";
  gather.communicator = nccl->get();
  gather.collective = hal::CollectiveKind::AllGatherColumns;
  gather.gatherPart = static_cast<const float *>((*part)->data());
  gather.gatherOut = static_cast<float *>((*out)->data());
  gather.gatherRows = 2;
  gather.gatherColumns = 4;
  p.epilogue = {gather};
  absl::Status s = (*device)->run(p, {});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(fake.lastStream(), test::FakeGpuApi::kFakeStream);
  EXPECT_EQ(std::memcmp((*out)->data(), values, sizeof values), 0);
  // Once (the epilogue), a gather of 4 floats per row.
  std::string log = fake.log();
  EXPECT_EQ(occurrences(log, "ncclAllGather count=4 datatype=7 grouped"), 2u) << log;
  EXPECT_EQ((*nccl)->collectiveStats().allGathers, 1u);

  comm::SingleProcessCommunicator host;
  p.epilogue[0].communicator = &host;
  EXPECT_THAT(std::string((*device)->run(p, {}).message()),
              HasSubstr("all-gather needs a GPU communicator (NCCL or RCCL), not single-process"));
}

} // namespace
} // namespace llamac
