//===- Ranks.h - llama-run as one rank of a tensor-parallel run -*- C++ -*-===//
//
// `mpirun -np N llama-run <artifact> ...` starts N copies of llama-run. Each
// joins the MPI world before anything else, loads its rank's weights and
// runs the same generation; the all-reduces keep their hidden states equal,
// and every rank samples the same tokens (same seed, same logits), so no
// token is sent between ranks (docs/tensor-parallel.md). Only rank 0 prints:
// the other ranks' stdout and stderr go to /dev/null. A rank that fails ends
// them all (MPI_Abort), so none is left waiting in a collective.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_RANKS_H
#define LLAMAC_TOOLS_LLAMA_RUN_RANKS_H

#include "runtime/comm/Communicator.h"

#include "absl/status/statusor.h"

#include <memory>

namespace llamac::tools {

/// Joins the ranks an MPI launcher started this process among (MPI_Init);
/// null when no launcher started it (a single process). An error when one
/// did but this llama-run was built without MPI.
absl::StatusOr<std::shared_ptr<comm::Communicator>> joinLaunchedRanks(int *argc,
                                                                      char ***argv);

/// The process's communicator, set by main() for the commands to load
/// their model with (null: a single process).
std::shared_ptr<comm::Communicator> &processCommunicator();

/// The outcome of a step every rank takes (loading the model) as all ranks
/// agree on it (Communicator::firstError): rank 0 then reports one error
/// for all, and every rank exits with it. `local` itself without ranks. An
/// OK result marks that collectives may be under way from now on.
absl::Status agreeAcrossRanks(const absl::Status &local);

/// True once the ranks have agreed that they all loaded their model: from
/// then on a rank that fails alone must end the others (abortAll), which
/// may be waiting for it in an all-reduce.
bool ranksMayBeInCollectives();

/// This process's rank among those the launcher started on its host (0
/// without a launcher): a tensor-parallel rank's GPU ordinal, one GPU per
/// rank.
int launchedLocalRank();

/// Sends the stdout and stderr of every rank but 0 to /dev/null.
void printOnlyOnRankZero(const comm::Communicator &communicator);

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_RANKS_H
