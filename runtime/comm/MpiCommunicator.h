//===- MpiCommunicator.h - CPU ranks over MPI -------------------*- C++ -*-===//
//
// `mpirun -np N llama-run <artifact> ...` starts N processes; each makes one
// MpiCommunicator (MPI_Init, its rank and the world's size) and sums the
// partial products with MPI_Allreduce, in place, on MPI_COMM_WORLD, and
// gathers a split output head's logits with MPI_Allgather. Built
// only when CMake finds MPI (Debian's Open MPI, scripts/install-deps.sh);
// the runtime library itself never links MPI.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_COMM_MPICOMMUNICATOR_H
#define LLAMAC_RUNTIME_COMM_MPICOMMUNICATOR_H

#include "runtime/comm/Communicator.h"

#include "absl/status/statusor.h"

#include <memory>

namespace llamac::comm {

class MpiCommunicator final : public Communicator {
public:
  /// Initializes MPI (once per process) and joins MPI_COMM_WORLD.
  static absl::StatusOr<std::unique_ptr<MpiCommunicator>> initialize(int *argc, char ***argv);
  /// MPI_Finalize.
  ~MpiCommunicator() override;

  int rank() const override { return worldRank; }
  int size() const override { return worldSize; }
  std::string name() const override { return "mpi"; }
  /// The lowest failing rank (MPI_Allreduce of MPI_MIN), then its status
  /// code and message broadcast from it.
  absl::Status firstError(const absl::Status &local) override;
  /// MPI_Bcast of bytes.
  absl::Status broadcast(void *data, size_t bytes, int root) override;
  /// MPI_Abort on MPI_COMM_WORLD: mpirun ends every rank.
  [[noreturn]] void abortAll(int exitCode) override;

protected:
  absl::Status reduce(float *data, size_t count) override;
  /// One MPI_Allgather: each rank sends its part whole and receives every
  /// rank's as a strided datatype that drops it into its columns.
  absl::Status gather(const float *part, float *out, size_t rows, size_t columns) override;

private:
  MpiCommunicator(int rank, int size) : worldRank(rank), worldSize(size) {}
  int worldRank = 0, worldSize = 1;
};

} // namespace llamac::comm

#endif // LLAMAC_RUNTIME_COMM_MPICOMMUNICATOR_H
