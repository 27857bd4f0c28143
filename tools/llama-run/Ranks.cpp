//===- Ranks.cpp - llama-run as one rank of a tensor-parallel run ---------===//

#include "tools/llama-run/Ranks.h"

#ifdef LLAMAC_HAVE_MPI
#include "runtime/comm/MpiCommunicator.h"
#endif

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

namespace llamac::tools {
namespace {

/// An MPI launcher's environment names the world size: Open MPI's mpirun,
/// then PMI (MPICH's hydra, Slurm's srun).
bool startedByMpiLauncher() {
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (std::getenv(name))
      return true;
  return false;
}

} // namespace

int launchedLocalRank() {
  // Open MPI, MPICH's hydra, Slurm's srun.
  for (const char *name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char *value = std::getenv(name))
      return std::atoi(value);
  return 0;
}

absl::StatusOr<std::shared_ptr<comm::Communicator>> joinLaunchedRanks(int *argc,
                                                                      char ***argv) {
  if (!startedByMpiLauncher())
    return std::shared_ptr<comm::Communicator>();
#ifdef LLAMAC_HAVE_MPI
  absl::StatusOr<std::unique_ptr<comm::MpiCommunicator>> mpi =
      comm::MpiCommunicator::initialize(argc, argv);
  if (!mpi.ok())
    return mpi.status();
  return std::shared_ptr<comm::Communicator>(std::move(*mpi));
#else
  (void)argc;
  (void)argv;
  return absl::FailedPreconditionError(
      "an MPI launcher started this llama-run, but it was built without MPI "
      "(install libopenmpi-dev and rebuild)");
#endif
}

namespace {
bool collectivesMayBeUnderWay = false;
} // namespace

absl::Status agreeAcrossRanks(const absl::Status &local) {
  std::shared_ptr<comm::Communicator> &communicator = processCommunicator();
  if (!communicator || communicator->size() == 1)
    return local;
  absl::Status agreed = communicator->firstError(local);
  collectivesMayBeUnderWay = agreed.ok();
  return agreed;
}

bool ranksMayBeInCollectives() { return collectivesMayBeUnderWay; }

std::shared_ptr<comm::Communicator> &processCommunicator() {
  static std::shared_ptr<comm::Communicator> communicator;
  return communicator;
}

void printOnlyOnRankZero(const comm::Communicator &communicator) {
  if (communicator.rank() == 0)
    return;
  std::fflush(nullptr);
  int null = open("/dev/null", O_WRONLY);
  if (null < 0)
    return;
  dup2(null, STDOUT_FILENO);
  dup2(null, STDERR_FILENO);
  close(null);
}

} // namespace llamac::tools
