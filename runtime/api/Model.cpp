//===- Model.cpp - a compiled model loaded on a device --------------------===//

#include "runtime/api/Model.h"
#include "runtime/api/ArtifactTokenizer.h"
#include "runtime/api/DeviceChoice.h"
#include "runtime/api/ModelState.h"
#include "runtime/api/PrefillKernels.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "runtime/artifact/DecodeTraffic.h"
#include "runtime/artifact/KernelChecks.h"
#include "runtime/comm/Communicator.h"
#include "runtime/comm/NcclCommunicator.h"

#include "absl/strings/str_cat.h"

#include <chrono>

namespace llamac {

using runtime::Artifact;

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

/// `options.sharedDevice` when given (checked against the artifact and the
/// other options), else the device the artifact's target needs, opened.
absl::StatusOr<std::shared_ptr<hal::Device>>
deviceFor(const Artifact &a, const ModelOptions &options) {
  if (!options.sharedDevice) {
    absl::StatusOr<std::unique_ptr<hal::Device>> device =
        runtime::openDeviceFor(a, options.device, options.threads, options.gpuOrdinal);
    if (!device.ok())
      return device.status();
    return std::shared_ptr<hal::Device>(std::move(*device));
  }
  hal::Device &shared = *options.sharedDevice;
  if (!options.device.empty() && options.device != shared.name())
    return absl::InvalidArgumentError(absl::StrCat("--device ", options.device,
                                                   " differs from the shared ",
                                                   shared.name(), " device"));
  if (shared.name() == "cpu" && options.threads != 0 &&
      options.threads != shared.concurrency())
    return absl::InvalidArgumentError(absl::StrCat(
        "--threads ", options.threads, " differs from the shared cpu device's ",
        shared.concurrency(), " threads"));
  if (absl::Status s = runtime::checkDeviceRuns(a, shared); !s.ok())
    return s;
  return options.sharedDevice;
}

/// A tensor-parallel artifact runs as exactly its ranks, one process each;
/// a single-process one as one process.
absl::Status checkRanks(const std::string &path, const runtime::ArtifactMetadata &meta,
                        const ModelOptions &options) {
  int64_t ranks = meta.tensorParallelRanks();
  int64_t processes = options.communicator ? options.communicator->size() : 1;
  if (ranks > 1 && !options.singleProcessReason.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is split over ", ranks, " tensor-parallel ranks; ",
                     options.singleProcessReason, " (compile it without --tp)"));
  if (ranks == processes)
    return absl::OkStatus();
  if (ranks == 1)
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not tensor-parallel, but ", processes,
        " processes were started; run it as one process, or compile it with --tp ",
        processes));
  if (processes == 1)
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is split over ", ranks, " tensor-parallel ranks; launch one process per rank: "
        "mpirun -np ", ranks, " llama-run ", path, " ..."));
  return absl::InvalidArgumentError(absl::StrCat(
      path, " is split over ", ranks, " tensor-parallel ranks, but ", processes,
      " processes were started; launch it with mpirun -np ", ranks));
}

} // namespace

Model::Model(std::unique_ptr<State> state) : state(std::move(state)) {}
Model::~Model() = default;

const runtime::ModelInfo &Model::info() const {
  return state->artifact->model();
}
const runtime::Artifact &Model::artifact() const { return *state->artifact; }
const Tokenizer &Model::tokenizer() const { return *state->tokenizer; }
int Model::threads() const { return state->threads; }
int64_t Model::maxSeqLen() const { return state->maxSeqLen; }
double Model::loadMs() const { return state->loadMs; }
const std::string &Model::prefillKernels() const { return state->prefillKernels; }
std::string_view Model::kvDtype() const {
  return runtime::dtypeName(artifact().kvCache().dtype);
}
uint64_t Model::weightBytes() const {
  return runtime::decodeTraffic(state->artifact->metadata()).weightBytesPerStep;
}
uint64_t Model::artifactWeightBytes() const {
  return state->artifact->weightBytes();
}
hal::Device &Model::device() const { return *state->device; }
comm::Communicator *Model::communicator() const {
  return state->communicator.get();
}
int64_t Model::rank() const { return state->artifact->rank(); }
int64_t Model::ranks() const {
  return state->artifact->metadata().tensorParallelRanks();
}
std::shared_ptr<hal::Device> Model::sharedDevice() const {
  return state->device;
}

absl::StatusOr<std::shared_ptr<const Model>>
Model::load(const std::string &path, const ModelOptions &options) {
  absl::StatusOr<std::unique_ptr<State>> state = loadState(path, options);
  const std::shared_ptr<comm::Communicator> &ranks = options.communicator;
  if (!ranks)
    return state.ok() ? absl::StatusOr<std::shared_ptr<const Model>>(
                            std::shared_ptr<const Model>(new Model(std::move(*state))))
                      : state.status();
  // Every rank agrees on the outcome (one error, the lowest failing
  // rank's, for all) before any starts a GPU communicator, a collective a
  // rank that failed would never join.
  if (absl::Status s = ranks->firstError(state.status()); !s.ok())
    return s;
  const hal::Device &device = *(*state)->device;
  if (device.name() == "cuda" || device.name() == "hip") {
    // The GPU's all-reduce sums device memory on its stream: NCCL or RCCL,
    // started over MPI (every rank's device has the same kind).
    absl::StatusOr<std::unique_ptr<comm::NcclCommunicator>> gpuRanks =
        comm::NcclCommunicator::create(device.name(), ranks);
    if (!gpuRanks.ok())
      return gpuRanks.status();
    (*state)->communicator = std::move(*gpuRanks);
  }
  return std::shared_ptr<const Model>(new Model(std::move(*state)));
}

absl::StatusOr<std::unique_ptr<Model::State>>
Model::loadState(const std::string &path, const ModelOptions &options) {
  Clock::time_point start = Clock::now();
  if (options.threads < 0 || options.threads > hal::kMaxCpuThreads)
    return absl::InvalidArgumentError(absl::StrCat(
        "--threads must be in [1, ", hal::kMaxCpuThreads, "], not ",
        options.threads));
  if (options.maxSeqLen < 0)
    return absl::InvalidArgumentError("--max-seq-len must be positive");

  auto state = std::make_unique<State>();
  const int64_t rank = options.communicator ? options.communicator->rank() : 0;
  // Rank 0's table opens on every rank first: the rank count is checked
  // before a rank beyond it is looked for.
  absl::StatusOr<std::unique_ptr<Artifact>> artifact = Artifact::open(path);
  if (!artifact.ok())
    return artifact.status();
  if (absl::Status s = checkRanks(path, (*artifact)->metadata(), options); !s.ok())
    return s;
  if (rank > 0) {
    artifact = Artifact::open(path, rank);
    if (!artifact.ok())
      return artifact.status();
  }
  state->artifact = std::move(*artifact);
  state->communicator = options.communicator;
  const Artifact &a = *state->artifact;
  if (options.verifyWeights)
    if (absl::Status s = a.verifyWeights(); !s.ok())
      return s;

  absl::StatusOr<std::shared_ptr<hal::Device>> device = deviceFor(a, options);
  if (!device.ok())
    return device.status();
  state->device = std::move(*device);
  state->threads = state->device->concurrency();

  state->maxSeqLen =
      options.maxSeqLen == 0 ? a.model().maxSeqLen : options.maxSeqLen;
  if (state->maxSeqLen > a.model().maxSeqLen)
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-seq-len ", state->maxSeqLen, " is larger than the ",
        a.model().maxSeqLen, " positions ", path, " was compiled for"));

  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = runtime::loadArtifactTokenizer(a, path);
  if (!tokenizer.ok())
    return tokenizer.status();
  state->tokenizer = std::move(*tokenizer);

  hal::ExecutableSource code;
  code.format = a.metadata().kernels.kind;
  code.code = a.kernelBytes();
  code.ptx = a.kernelPtxBytes();
  code.name = path;
  bool amxRuns = runtime::useAmxVariants(a.target());
  if (amxRuns)
    code.variantSuffix = artifact::kAmxVariantSuffix;
  state->prefillKernels = runtime::prefillKernelsName(a.target(), amxRuns);
  absl::StatusOr<std::unique_ptr<hal::Executable>> kernels =
      state->device->loadExecutable(code);
  if (!kernels.ok())
    return kernels.status();
  state->kernels = std::move(*kernels);
  // Before any kernel runs: the schedule must pass each kernel the
  // arguments the kernel library says it takes.
  const hal::Executable &executable = *state->kernels;
  if (absl::Status s = runtime::checkKernelSignatures(
          a.metadata(), runtime::withMetadataSignatures(
                            a.metadata(), [&](std::string_view kernel) {
                              return executable.signature(absl::string_view(
                                  kernel.data(), kernel.size()));
                            }));
      !s.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));

  absl::StatusOr<std::unique_ptr<runtime::DeviceWeights>> weights =
      runtime::DeviceWeights::upload(a.metadata(), *state->device);
  if (!weights.ok())
    return weights.status();
  state->weights = std::move(*weights);
  state->loadMs = msSince(start);
  return state;
}

} // namespace llamac
