//===- Communicator.h - the ranks of a tensor-parallel run ------*- C++ -*-===//
//
// Tensor parallelism's cross-rank operations are the ones the dispatch
// schedule asks for (docs/tensor-parallel.md): the all-reduce after each
// row-parallel projection, and the all-gather of a split output head's
// logits columns. The runtime owns no transport: a communicator hands them
// to an existing engine (MPI between CPU ranks, NCCL or RCCL between GPUs).
// A single-process run gets `SingleProcessCommunicator`, for which every sum
// is the rank's own value and every gather the rank's own part.
//
// Each host collective is timed, so that `llama-run bench` reports the share
// of a decode step spent communicating. A GPU communicator (NCCL, RCCL)
// instead enqueues its collectives on the device's stream, between the
// kernels (`enqueueAllReduceSum`, `enqueueAllGatherColumns`); they are
// counted, not timed, since they run inside the captured decode graph.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_COMM_COMMUNICATOR_H
#define LLAMAC_RUNTIME_COMM_COMMUNICATOR_H

#include "absl/status/status.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace llamac::comm {

/// Counts and time of the collectives run so far, by kind.
struct CollectiveStats {
  /// All-reduces, the bytes of the buffers they summed and their time.
  uint64_t allReduces = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  /// All-gathers, the bytes of their outputs (every rank's part, which is
  /// what each rank holds afterwards, like an all-reduce's buffer) and
  /// their time.
  uint64_t allGathers = 0;
  uint64_t gatherBytes = 0;
  double gatherSeconds = 0;
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

  /// Gathers every rank's `rows` x `columns` f32 part (row-major, host
  /// memory) into `out`, `rows` x (`columns` * size()), on every rank: row
  /// t of `out` is row t of rank 0's part, then rank 1's, and so on, so
  /// rank r's columns are [r * columns, (r + 1) * columns). `out` must not
  /// overlap `part`. Same ordering rules as `allReduceSum`, with the same
  /// rows and columns on every rank.
  absl::Status allGatherColumns(const float *part, float *out, size_t rows, size_t columns) {
    auto start = std::chrono::steady_clock::now();
    absl::Status status = gather(part, out, rows, columns);
    stats.gatherSeconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    countGather(rows, columns);
    return status;
  }

  /// Where the schedule's collective steps find their data: host memory
  /// (`allReduceSum`, `allGatherColumns`; MPI) or device memory, on the
  /// GPU's stream (`enqueueAllReduceSum`, `enqueueAllGatherColumns`; NCCL,
  /// RCCL).
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

  /// Enqueues, on `stream`, the gather of every rank's part at device
  /// address `part` into `out` (device memory), laid out as by
  /// `allGatherColumns`.
  absl::Status enqueueAllGatherColumns(const void *part, void *out, size_t rows, size_t columns,
                                       void *stream) {
    countGather(rows, columns);
    return enqueueGather(part, out, rows, columns, stream);
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
  /// By default a gather is a sum: each rank writes its columns into zeros
  /// and `reduce` adds the ranks' outputs (adding zeros is exact), so a
  /// communicator that only sums still runs a split head; MPI's one
  /// `MPI_Allgather` moves half the bytes.
  virtual absl::Status gather(const float *part, float *out, size_t rows, size_t columns);
  virtual absl::Status enqueueGather(const void *part, void *out, size_t rows, size_t columns,
                                     void *stream) {
    (void)part;
    (void)out;
    (void)rows;
    (void)columns;
    (void)stream;
    return absl::FailedPreconditionError(
        name() + " gathers host memory; a GPU's all-gather needs NCCL or RCCL");
  }

private:
  void countGather(size_t rows, size_t columns) {
    ++stats.allGathers;
    stats.gatherBytes += rows * columns * static_cast<size_t>(size()) * sizeof(float);
  }

  CollectiveStats stats;
};

/// Rank 0 of 1: a sum over one rank is the value itself, a gather the
/// rank's own part.
class SingleProcessCommunicator final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single-process"; }
  absl::Status firstError(const absl::Status &local) override { return local; }
  [[noreturn]] void abortAll(int exitCode) override;

protected:
  absl::Status reduce(float *, size_t) override { return absl::OkStatus(); }
  absl::Status gather(const float *part, float *out, size_t rows, size_t columns) override {
    std::copy_n(part, rows * columns, out);
    return absl::OkStatus();
  }
};

} // namespace llamac::comm

#endif // LLAMAC_RUNTIME_COMM_COMMUNICATOR_H
