//===- FakeNccl.cpp - a libnccl.so.2 stand-in over host memory ------------===//
//
// Test double for NCCL, built as a shared library and loaded by
// NcclCommunicator through LLAMAC_NCCL_LIBRARY / LLAMAC_RCCL_LIBRARY, so the
// communicator's dlopen, symbol resolution, call sequence, arguments and
// error mapping are tested on machines with no GPU. Ranks are threads of
// one process: each ncclCommInitRank with the same unique id joins one
// group, and ncclAllReduce waits for every rank of it and sums their host
// buffers (the "device memory" of a test) in rank order; ncclAllGather
// waits likewise and copies rank r's buffer to r * count in every rank's.
// ncclGroupStart / ncclGroupEnd only nest (per thread, as NCCL's do), hold
// at most NCCL's 2048 calls, and are logged: a grouped call runs at once,
// which is the same result when every rank makes the same calls in the
// same order. Every call is logged; the fakeNccl* functions let a test read
// the log and make a call fail. Ranks in other processes (llama-run under
// mpirun, each its own copy of this library) are not summed: each process
// sums its own ranks, and LLAMAC_FAKE_NCCL_LOG names a file every call is
// appended to. Not model math: only the communication's bookkeeping.
//
//===----------------------------------------------------------------------===//

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct UniqueId {
  char internal[128];
};

struct Group {
  int ranks = 0;
  int joinedHere = 0;
  int arrived = 0;
  unsigned long generation = 0;
  std::vector<float *> buffers;
  /// ncclAllGather: each rank's send buffer.
  std::vector<const float *> sends;
};

struct Comm {
  std::shared_ptr<Group> group;
  int rank = 0;
};

struct State {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> calls;
  std::map<std::string, std::shared_ptr<Group>> groups;
  /// call -> {result, rank it fails on (-1: every rank)}
  std::map<std::string, std::pair<int, int>> failures;
  int nextId = 0;
  void *lastStream = nullptr;
  std::string joined;
};

State &state() {
  static State s;
  return s;
}

/// ncclGroupStart calls not yet ended on this thread, and the calls in the
/// outermost group so far.
thread_local int groupDepth = 0;
thread_local int groupedCalls = 0;
/// NCCL's documented limit of calls in one group.
constexpr int kMaxGroupedCalls = 2048;

/// The injected failure of `call` on `rank`, or 0.
int injected(State &s, const std::string &call, int rank) {
  auto it = s.failures.find(call);
  if (it == s.failures.end())
    return 0;
  return it->second.second < 0 || it->second.second == rank ? it->second.first : 0;
}

/// Also appended, with the MPI rank, to $LLAMAC_FAKE_NCCL_LOG when set
/// (llama-run processes, whose log a test reads afterwards).
void log(State &s, std::string entry) {
  if (const char *path = std::getenv("LLAMAC_FAKE_NCCL_LOG"))
    if (FILE *f = std::fopen(path, "a")) {
      const char *rank = std::getenv("OMPI_COMM_WORLD_RANK");
      std::fprintf(f, "rank %s: %s\n", rank ? rank : "?", entry.c_str());
      std::fclose(f);
    }
  s.calls.push_back(std::move(entry));
}

/// The ranks of `g` in this process meet here: the last to arrive runs
/// `lastIn` for all of them (holding `lock`) and wakes the others, who wait
/// for it.
template <typename LastIn>
void rendezvous(State &s, Group &g, std::unique_lock<std::mutex> &lock, LastIn lastIn) {
  unsigned long generation = g.generation;
  if (++g.arrived == g.joinedHere) {
    lastIn();
    g.arrived = 0;
    ++g.generation;
    s.changed.notify_all();
  } else {
    s.changed.wait(lock, [&] { return g.generation != generation; });
  }
}

} // namespace

extern "C" {

// NCCL's API (nccl.h's names and C ABI; results as ints).

int ncclGetVersion(int *version) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  log(s, "ncclGetVersion");
  if (!version)
    return 4; // ncclInvalidArgument
  *version = 22809;
  return injected(s, "ncclGetVersion", -1);
}

int ncclGetUniqueId(UniqueId *id) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  log(s, "ncclGetUniqueId");
  if (int failure = injected(s, "ncclGetUniqueId", -1))
    return failure;
  std::memset(id->internal, 0, sizeof id->internal);
  std::snprintf(id->internal, sizeof id->internal, "fake-nccl-%d", s.nextId++);
  return 0;
}

int ncclCommInitRank(Comm **comm, int nranks, UniqueId id, int rank) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  std::string key(id.internal, strnlen(id.internal, sizeof id.internal));
  log(s, "ncclCommInitRank nranks=" + std::to_string(nranks) + " rank=" + std::to_string(rank) +
             " id=" + key);
  if (int failure = injected(s, "ncclCommInitRank", rank))
    return failure;
  if (!comm || nranks < 1 || rank < 0 || rank >= nranks || key.rfind("fake-nccl-", 0) != 0)
    return 4; // ncclInvalidArgument: also an id ncclGetUniqueId never made
  std::shared_ptr<Group> &group = s.groups[key];
  if (!group) {
    group = std::make_shared<Group>();
    group->ranks = nranks;
    group->buffers.resize(nranks);
    group->sends.resize(nranks);
  }
  if (group->ranks != nranks)
    return 5; // ncclInvalidUsage
  ++group->joinedHere;
  *comm = new Comm{group, rank};
  return 0;
}

int ncclAllReduce(const void *send, void *recv, size_t count, int datatype, int op, Comm *comm,
                  void *stream) {
  State &s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  log(s, "ncclAllReduce count=" + std::to_string(count) + " datatype=" +
             std::to_string(datatype) + " op=" + std::to_string(op) +
             (send == recv ? " in-place" : " out-of-place"));
  s.lastStream = stream;
  if (int failure = injected(s, "ncclAllReduce", comm ? comm->rank : -1))
    return failure;
  if (!comm || !recv || datatype != 7 /* ncclFloat32 */ || op != 0 /* ncclSum */)
    return 4;
  if (send != recv)
    std::memmove(recv, send, count * sizeof(float));
  Group &g = *comm->group;
  // Ranks in other processes (llama-run under mpirun) are not seen: the
  // sum is over this process's ranks.
  if (g.joinedHere == 1)
    return 0;
  g.buffers[comm->rank] = static_cast<float *>(recv);
  rendezvous(s, g, lock, [&] {
    // The last rank in sums for all, in rank order.
    std::vector<float> sum(count, 0.0f);
    for (float *buffer : g.buffers)
      if (buffer)
        for (size_t i = 0; i < count; ++i)
          sum[i] += buffer[i];
    for (float *buffer : g.buffers)
      if (buffer)
        std::memcpy(buffer, sum.data(), count * sizeof(float));
  });
  return 0;
}

int ncclAllGather(const void *send, void *recv, size_t count, int datatype, Comm *comm,
                  void *stream) {
  State &s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  log(s, "ncclAllGather count=" + std::to_string(count) + " datatype=" +
             std::to_string(datatype) + (groupDepth > 0 ? " grouped" : " alone"));
  s.lastStream = stream;
  if (int failure = injected(s, "ncclAllGather", comm ? comm->rank : -1))
    return failure;
  if (!comm || !send || !recv || datatype != 7 /* ncclFloat32 */)
    return 4;
  if (groupDepth > 0 && ++groupedCalls > kMaxGroupedCalls)
    return 5; // ncclInvalidUsage: too many calls in a group
  Group &g = *comm->group;
  // As for the sum: ranks in other processes are not seen, so a lone
  // rank's gather holds its own part only.
  if (g.joinedHere == 1) {
    std::memmove(static_cast<float *>(recv) + comm->rank * count, send, count * sizeof(float));
    return 0;
  }
  g.sends[comm->rank] = static_cast<const float *>(send);
  g.buffers[comm->rank] = static_cast<float *>(recv);
  rendezvous(s, g, lock, [&] {
    // The last rank in copies for all.
    for (float *buffer : g.buffers)
      for (size_t r = 0; buffer && r < g.sends.size(); ++r)
        if (g.sends[r])
          std::memcpy(buffer + r * count, g.sends[r], count * sizeof(float));
  });
  return 0;
}

int ncclGroupStart() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  log(s, "ncclGroupStart");
  if (int failure = injected(s, "ncclGroupStart", -1))
    return failure;
  if (groupDepth++ == 0)
    groupedCalls = 0;
  return 0;
}

int ncclGroupEnd() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  log(s, "ncclGroupEnd");
  if (groupDepth == 0)
    return 5; // ncclInvalidUsage: no group to end
  --groupDepth;
  return injected(s, "ncclGroupEnd", -1);
}

int ncclCommDestroy(Comm *comm) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  log(s, "ncclCommDestroy");
  delete comm;
  return 0;
}

const char *ncclGetErrorString(int result) {
  switch (result) {
  case 0:
    return "fake nccl: no error";
  case 2:
    return "fake nccl: unhandled system error";
  case 4:
    return "fake nccl: invalid argument";
  case 5:
    return "fake nccl: invalid usage";
  default:
    return "fake nccl: unknown result";
  }
}

// The test's controls.

/// Forgets the log, the failures and the groups.
void fakeNcclReset() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.calls.clear();
  s.failures.clear();
  s.groups.clear();
  s.lastStream = nullptr;
}

/// Makes `call` return `result` on `rank` (-1: on every rank).
void fakeNcclFail(const char *call, int result, int rank) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.failures[call] = {result, rank};
}

/// The calls so far, one a line.
const char *fakeNcclCalls() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.joined.clear();
  for (const std::string &call : s.calls)
    s.joined += call + "\n";
  return s.joined.c_str();
}

/// The stream of the last ncclAllReduce or ncclAllGather.
void *fakeNcclLastStream() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.lastStream;
}

} // extern "C"
