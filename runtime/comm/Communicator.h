//===- Communicator.h - the ranks of a tensor-parallel run ------*- C++ -*-===//
//
// Tensor parallelism's one cross-rank operation is the all-reduce the
// dispatch schedule asks for after each row-parallel projection
// (docs/tensor-parallel.md). The runtime owns no transport: a communicator
// hands the sum to an existing engine (MPI between CPU ranks, NCCL or RCCL
// between GPUs). A single-process run gets `SingleProcessCommunicator`, for
// which every sum is the rank's own value.
//
// Each host all-reduce is timed, so that `llama-run bench` reports the share
// of a decode step spent communicating. A GPU communicator (NCCL, RCCL)
// instead enqueues its sum on the device's stream, between the kernels
// (`enqueueAllReduceSum`); it is counted, not timed, since it runs inside
// the captured decode graph.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_COMM_COMMUNICATOR_H
#define LLAMAC_RUNTIME_COMM_COMMUNICATOR_H

#include "absl/status/status.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace llamac::comm {

/// Counts and time of the all-reduces run so far.
struct CollectiveStats {
  uint64_t allReduces = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

class Communicator {
public:
  virtual ~Communicator() = default;

  /// This process's rank in [0, size()).
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// "mpi", "single-process", ...: for messages and reports.
  virtual std::string name() const = 0;

  /// Replaces the `count` floats at `data` (host memory) by their sum over
  /// every rank. Every rank must call it, in the same order, with the same
  /// count.
  absl::Status allReduceSum(float *data, size_t count) {
    auto start = std::chrono::steady_clock::now();
    absl::Status status = reduce(data, count);
    stats.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                         .count();
    ++stats.allReduces;
    stats.bytes += count * sizeof(float);
    return status;
  }

  /// Where the schedule's all-reduce steps find their data: host memory
  /// (`allReduceSum`; MPI) or device memory, summed on the GPU's stream
  /// (`enqueueAllReduceSum`; NCCL, RCCL).
  enum class Memory { Host, Device };
  virtual Memory memory() const { return Memory::Host; }

  /// Enqueues, on `stream` (the device's CUstream or hipStream_t), the
  /// replacement of the `count` floats at device address `data` by their
  /// sum over every rank. Same ordering rules as `allReduceSum`.
  absl::Status enqueueAllReduceSum(void *data, size_t count, void *stream) {
    ++stats.allReduces;
    stats.bytes += count * sizeof(float);
    return enqueueReduce(data, count, stream);
  }

  /// Copies `bytes` at `data` from rank `root` to every other rank (how a
  /// GPU communicator shares its unique id). Every rank must call it.
  virtual absl::Status broadcast(void *data, size_t bytes, int root) {
    (void)data;
    (void)bytes;
    if (size() == 1 && root == 0)
      return absl::OkStatus();
    return absl::UnimplementedError(name() + " cannot broadcast");
  }

  /// Every rank calls it with its own outcome of the same step (loading the
  /// model, say); each gets the error of the lowest rank that failed, its
  /// message prefixed with that rank unless it is rank 0, or OK when none
  /// did. Lets rank 0 report one error for all, and every rank stop
  /// together, before any of them waits in a collective the others never
  /// join.
  virtual absl::Status firstError(const absl::Status &local) = 0;

  /// Ends every rank's process with `exitCode`: a rank that cannot go on
  /// must not leave the others waiting in a collective.
  [[noreturn]] virtual void abortAll(int exitCode) = 0;

  const CollectiveStats &collectiveStats() const { return stats; }
  void resetCollectiveStats() { stats = {}; }

protected:
  virtual absl::Status reduce(float *data, size_t count) = 0;
  virtual absl::Status enqueueReduce(void *data, size_t count, void *stream) {
    (void)data;
    (void)count;
    (void)stream;
    return absl::FailedPreconditionError(
        name() + " sums host memory; a GPU's all-reduce needs NCCL or RCCL");
  }

private:
  CollectiveStats stats;
};

/// Rank 0 of 1: a sum over one rank is the value itself.
class SingleProcessCommunicator final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single-process"; }
  absl::Status firstError(const absl::Status &local) override { return local; }
  [[noreturn]] void abortAll(int exitCode) override;

protected:
  absl::Status reduce(float *, size_t) override { return absl::OkStatus(); }
};

} // namespace llamac::comm

#endif // LLAMAC_RUNTIME_COMM_COMMUNICATOR_H
