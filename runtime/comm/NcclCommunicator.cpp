//===- NcclCommunicator.cpp - GPU ranks over NCCL or RCCL -----------------===//

#include "runtime/comm/NcclCommunicator.h"

#include "runtime/hal/drivers/gpu/DriverLibrary.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstdlib>

namespace llamac::comm {
namespace {

struct VendorLibrary {
  const char *vendor;
  const char *library;
  const char *override;
  const char *missingHint;
};

absl::StatusOr<VendorLibrary> libraryFor(absl::string_view deviceKind) {
  if (deviceKind == "cuda")
    return VendorLibrary{"nccl", kNcclLibrary, kNcclLibraryOverride,
                         "tensor-parallel runs on cuda devices sum with NCCL: install "
                         "libnccl2, or set LLAMAC_NCCL_LIBRARY to its path"};
  if (deviceKind == "hip")
    return VendorLibrary{"rccl", kRcclLibrary, kRcclLibraryOverride,
                         "tensor-parallel runs on hip devices sum with RCCL: install "
                         "librccl1, or set LLAMAC_RCCL_LIBRARY to its path"};
  return absl::InvalidArgumentError(absl::StrCat(
      "no GPU communicator for ", deviceKind, " devices (NCCL is for cuda, RCCL for hip)"));
}

} // namespace

absl::Status NcclCommunicator::check(const char *call, nccl::ncclResult_t result) const {
  if (result == nccl::ncclSuccess)
    return absl::OkStatus();
  const char *text = api.ncclGetErrorString ? api.ncclGetErrorString(result) : nullptr;
  return absl::InternalError(absl::StrCat(
      library ? library->name() : vendor, ": ", call, " failed: ",
      text ? text : "unknown error", " (error ", result, ")"));
}

absl::StatusOr<std::unique_ptr<NcclCommunicator>>
NcclCommunicator::create(absl::string_view deviceKind, std::shared_ptr<Communicator> bootstrap) {
  if (!bootstrap)
    return absl::InvalidArgumentError("a GPU communicator needs MPI ranks to start from");
  absl::StatusOr<VendorLibrary> wanted = libraryFor(deviceKind);
  std::unique_ptr<NcclCommunicator> self;
  // Each step's outcome is agreed on before the next: a rank that failed
  // alone would otherwise leave the others in a collective forever.
  absl::Status local = wanted.status();
  if (local.ok()) {
    self.reset(new NcclCommunicator(bootstrap, wanted->vendor));
    absl::StatusOr<std::unique_ptr<hal::gpu::DriverLibrary>> opened =
        hal::gpu::DriverLibrary::open({wanted->library}, wanted->override,
                                      wanted->missingHint);
    local = opened.status();
    if (local.ok()) {
      self->library = std::move(*opened);
#define LLAMAC_NCCL_RESOLVE(name)                                              \
  if (local.ok())                                                              \
    local = self->library->resolve(#name, &self->api.name);
      LLAMAC_NCCL_ENTRY_POINTS(LLAMAC_NCCL_RESOLVE)
#undef LLAMAC_NCCL_RESOLVE
    }
    if (local.ok())
      local = self->check("ncclGetVersion", self->api.ncclGetVersion(&self->version));
  }
  if (absl::Status s = bootstrap->firstError(local); !s.ok())
    return s;

  nccl::ncclUniqueId id{};
  local = bootstrap->rank() == 0 ? self->check("ncclGetUniqueId", self->api.ncclGetUniqueId(&id))
                                 : absl::OkStatus();
  if (absl::Status s = bootstrap->firstError(local); !s.ok())
    return s;
  if (absl::Status s = bootstrap->broadcast(&id, sizeof id, 0); !s.ok())
    return s;
  local = self->check("ncclCommInitRank",
                      self->api.ncclCommInitRank(&self->comm, bootstrap->size(), id,
                                                 bootstrap->rank()));
  if (!local.ok())
    self->comm = nullptr;
  if (absl::Status s = bootstrap->firstError(local); !s.ok())
    return s;
  return self;
}

NcclCommunicator::~NcclCommunicator() {
  if (comm)
    api.ncclCommDestroy(comm);
}

void NcclCommunicator::abortAll(int exitCode) {
  bootstrap->abortAll(exitCode);
  std::abort(); // not reached: abortAll does not return
}

absl::Status NcclCommunicator::reduce(float *, size_t) {
  return absl::FailedPreconditionError(
      absl::StrCat(vendor, " sums device memory, not host memory (a GPU device's schedule)"));
}

absl::Status NcclCommunicator::enqueueReduce(void *data, size_t count, void *stream) {
  return check("ncclAllReduce",
               api.ncclAllReduce(data, data, count, nccl::ncclFloat32, nccl::ncclSum, comm,
                                 static_cast<nccl::gpuStream_t>(stream)));
}

absl::Status NcclCommunicator::gather(const float *, float *, size_t, size_t) {
  return absl::FailedPreconditionError(absl::StrCat(
      vendor, " gathers device memory, not host memory (a GPU device's schedule)"));
}

absl::Status NcclCommunicator::enqueueGather(const void *part, void *out, size_t rows,
                                             size_t columns, void *stream) {
  // ncclAllGather puts rank r's buffer at r times its size: a row of the
  // output is one such gather of that row of every part. A group makes its
  // rows one operation on the stream; NCCL takes at most kMaxGroupedCalls
  // calls in a group, so a long prefill chunk is several.
  const size_t rowWidth = columns * static_cast<size_t>(size());
  for (size_t first = 0; first < rows; first += kMaxGroupedCalls) {
    if (absl::Status s = check("ncclGroupStart", api.ncclGroupStart()); !s.ok())
      return s;
    absl::Status status;
    for (size_t t = first; t < std::min(rows, first + kMaxGroupedCalls) && status.ok(); ++t)
      status = check("ncclAllGather",
                     api.ncclAllGather(static_cast<const float *>(part) + t * columns,
                                       static_cast<float *>(out) + t * rowWidth, columns,
                                       nccl::ncclFloat32, comm,
                                       static_cast<nccl::gpuStream_t>(stream)));
    // Ended even after a failed row: the group must not stay open.
    absl::Status ended = check("ncclGroupEnd", api.ncclGroupEnd());
    if (!status.ok() || !ended.ok())
      return status.ok() ? ended : status;
  }
  return absl::OkStatus();
}

} // namespace llamac::comm
