//===- NcclCommunicator.h - GPU ranks over NCCL or RCCL ---------*- C++ -*-===//
//
// `mpirun -np N llama-run <artifact> --device cuda|hip` runs one GPU per
// rank; their collectives go to NCCL (cuda) or RCCL (hip, which has NCCL's
// API under librccl.so.1), dlopen'ed like the GPU drivers, so llama-run
// builds and runs without either. MPI stays the bootstrap: it gives the rank
// and the size, carries rank 0's ncclUniqueId to the others, agrees on
// errors and aborts; NCCL only sums (in place) and gathers f32, on the
// device's stream between the schedule's kernels (and so inside the captured
// decode graph).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_COMM_NCCLCOMMUNICATOR_H
#define LLAMAC_RUNTIME_COMM_NCCLCOMMUNICATOR_H

#include "runtime/comm/Communicator.h"
#include "runtime/comm/NcclApi.h"
#include "runtime/hal/drivers/gpu/DriverLibrary.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <memory>

namespace llamac::comm {

/// The libraries opened: for cuda devices, NCCL; for hip, RCCL. The
/// environment variables name another path to each (tests load a fake).
inline constexpr const char *kNcclLibrary = "libnccl.so.2";
inline constexpr const char *kNcclLibraryOverride = "LLAMAC_NCCL_LIBRARY";
inline constexpr const char *kRcclLibrary = "librccl.so.1";
inline constexpr const char *kRcclLibraryOverride = "LLAMAC_RCCL_LIBRARY";

class NcclCommunicator final : public Communicator {
public:
  /// Joins every rank of `bootstrap` in one NCCL (deviceKind "cuda") or RCCL
  /// ("hip") communicator on the GPU whose context is current on this
  /// thread. Every rank must call it; each returns the same error (the
  /// lowest failing rank's, from `bootstrap->firstError`) when the library
  /// is missing on any rank or NCCL refuses, so no rank waits for another
  /// that gave up.
  static absl::StatusOr<std::unique_ptr<NcclCommunicator>>
  create(absl::string_view deviceKind, std::shared_ptr<Communicator> bootstrap);
  /// ncclCommDestroy.
  ~NcclCommunicator() override;

  int rank() const override { return bootstrap->rank(); }
  int size() const override { return bootstrap->size(); }
  /// "nccl" or "rccl".
  std::string name() const override { return vendor; }
  Memory memory() const override { return Memory::Device; }
  absl::Status broadcast(void *data, size_t bytes, int root) override {
    return bootstrap->broadcast(data, bytes, root);
  }
  absl::Status firstError(const absl::Status &local) override {
    return bootstrap->firstError(local);
  }
  /// The bootstrap's abort (MPI_Abort ends every rank).
  [[noreturn]] void abortAll(int exitCode) override;

  /// The library's NCCL_VERSION_CODE (e.g. 22809 for 2.28.9).
  int libraryVersion() const { return version; }

  /// The most calls NCCL takes between ncclGroupStart and ncclGroupEnd
  /// (its documented limit): a gather of more rows is several groups.
  static constexpr size_t kMaxGroupedCalls = 2048;

protected:
  /// Refused: NCCL sums device memory (enqueueAllReduceSum).
  absl::Status reduce(float *data, size_t count) override;
  /// ncclAllReduce(data, data, count, ncclFloat32, ncclSum, comm, stream).
  absl::Status enqueueReduce(void *data, size_t count, void *stream) override;
  /// Refused: NCCL gathers device memory (enqueueAllGatherColumns).
  absl::Status gather(const float *part, float *out, size_t rows, size_t columns) override;
  /// Between ncclGroupStart and ncclGroupEnd, one ncclAllGather per row
  /// (kMaxGroupedCalls rows a group).
  absl::Status enqueueGather(const void *part, void *out, size_t rows, size_t columns,
                             void *stream) override;

private:
  NcclCommunicator(std::shared_ptr<Communicator> bootstrap, std::string vendor)
      : bootstrap(std::move(bootstrap)), vendor(std::move(vendor)) {}
  /// The call's failure with the library's text for `result`.
  absl::Status check(const char *call, nccl::ncclResult_t result) const;

  std::shared_ptr<Communicator> bootstrap;
  std::string vendor;
  std::unique_ptr<hal::gpu::DriverLibrary> library;
  nccl::NcclApi api{};
  nccl::ncclComm_t comm = nullptr;
  int version = 0;
};

} // namespace llamac::comm

#endif // LLAMAC_RUNTIME_COMM_NCCLCOMMUNICATOR_H
