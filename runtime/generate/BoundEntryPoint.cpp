//===- BoundEntryPoint.cpp - an entry point ready to run ------------------===//

#include "runtime/generate/BoundEntryPoint.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace llamac::runtime {

namespace {

using BufferMap = std::map<int64_t, std::unique_ptr<hal::Buffer>>;

/// Buffer `id` of a collective step.
absl::StatusOr<hal::Buffer *> collectiveBuffer(const BufferMap &buffers, int64_t id) {
  auto it = buffers.find(id);
  if (it == buffers.end())
    return absl::InvalidArgumentError(
        absl::StrCat("a collective step binds unknown buffer ", id));
  return it->second.get();
}

/// A collective step, which the metadata's checks made one f32 activation
/// buffer (all-reduce) or a [rows, C] part and its [rows, C * ranks] output
/// (all-gather).
absl::StatusOr<hal::BoundDispatch> bindCollective(const Dispatch &d, const EntryPoint &entryPoint,
                                                  const BufferMap &buffers,
                                                  comm::Communicator *communicator) {
  if (!communicator)
    return absl::FailedPreconditionError(
        "the schedule has tensor-parallel collective steps but no communicator was given");
  absl::StatusOr<hal::Buffer *> first = collectiveBuffer(buffers, d.bindings.front().bufferId);
  if (!first.ok())
    return first.status();
  hal::BoundDispatch b;
  b.communicator = communicator;
  if (*d.collective == Collective::AllReduceSum) {
    b.kernel = "all_reduce";
    b.collective = hal::CollectiveKind::AllReduceSum;
    b.reduceData = static_cast<float *>((*first)->data());
    b.reduceCount = (*first)->size() / sizeof(float);
    return b;
  }
  absl::StatusOr<hal::Buffer *> out = collectiveBuffer(buffers, d.bindings[1].bufferId);
  if (!out.ok())
    return out.status();
  // The part's shape gives the gather's; the output is the part's rows by
  // columns * ranks (checkCollective).
  const BufferInfo *part = entryPoint.findBuffer(d.bindings.front().bufferId);
  if (!part || part->shape.size() != 2)
    return absl::InvalidArgumentError("an all-gather step's part is not a [rows, columns] buffer");
  b.kernel = "all_gather";
  b.collective = hal::CollectiveKind::AllGatherColumns;
  b.gatherPart = static_cast<const float *>((*first)->data());
  b.gatherOut = static_cast<float *>((*out)->data());
  b.gatherRows = static_cast<uint64_t>(part->shape[0]);
  b.gatherColumns = static_cast<uint64_t>(part->shape[1]);
  b.gatherFilledRowsOnly = entryPoint.tokens > 1 && part->shape[0] == entryPoint.tokens;
  return b;
}

absl::StatusOr<std::vector<hal::BoundDispatch>>
bindDispatches(const std::vector<Dispatch> &dispatches, const EntryPoint &entryPoint,
               const ArtifactMetadata &meta, const hal::Executable &kernels,
               const DeviceWeights &weights, const BufferMap &buffers,
               hal::Buffer &tokens, KVCache &cache,
               comm::Communicator *communicator) {
  std::vector<hal::BoundDispatch> bound;
  for (const Dispatch &d : dispatches) {
    if (d.collective) {
      absl::StatusOr<hal::BoundDispatch> collective =
          bindCollective(d, entryPoint, buffers, communicator);
      if (!collective.ok())
        return collective.status();
      bound.push_back(std::move(*collective));
      continue;
    }
    hal::BoundDispatch b;
    b.kernel = d.kernel;
    absl::StatusOr<hal::KernelHandle> handle = kernels.lookup(d.kernel);
    if (!handle.ok())
      return handle.status();
    b.fn = handle->hostFn;
    b.deviceFunction = handle->deviceFunction;
    if (d.launch) {
      // The parser bounds each dimension below 2^31.
      for (int i = 0; i < 3; ++i) {
        b.launch.grid[i] = static_cast<uint32_t>(d.launch->grid[i]);
        b.launch.block[i] = static_cast<uint32_t>(d.launch->block[i]);
      }
      b.launch.sharedBytes = static_cast<uint32_t>(d.launch->sharedBytes);
    }
    for (const Binding &binding : d.bindings) {
      switch (binding.kind) {
      case Binding::Kind::Buffer: {
        auto it = buffers.find(binding.bufferId);
        if (it == buffers.end())
          return absl::InvalidArgumentError(absl::StrCat(
              "kernel ", d.kernel, " binds unknown buffer ", binding.bufferId));
        b.args.push_back(hal::ArgSource::pointer(it->second->data()));
        break;
      }
      case Binding::Kind::Weight: {
        if (binding.weightIndex < 0 ||
            binding.weightIndex >= static_cast<int64_t>(meta.weights.size()) ||
            binding.weightIndex >= static_cast<int64_t>(weights.count()))
          return absl::InvalidArgumentError(
              absl::StrCat("kernel ", d.kernel, " binds unknown weight ",
                           binding.weightName));
        const WeightInfo &w = meta.weights[binding.weightIndex];
        void *address = weights.address(binding.weightIndex);
        b.args.push_back(binding.perLayer
                             ? hal::ArgSource::layerSlice(address,
                                                          w.layerStride())
                             : hal::ArgSource::pointer(address));
        break;
      }
      // Kernels take the current layer's slice of a cache; its stride
      // follows the positions this run allocated.
      case Binding::Kind::KCache:
        b.args.push_back(
            hal::ArgSource::layerSlice(cache.keys(), cache.layerBytes()));
        break;
      case Binding::Kind::VCache:
        b.args.push_back(
            hal::ArgSource::layerSlice(cache.values(), cache.layerBytes()));
        break;
      case Binding::Kind::Tokens:
        b.args.push_back(hal::ArgSource::pointer(tokens.data()));
        break;
      }
    }
    for (Scalar s : d.scalars)
      b.args.push_back(s == Scalar::Pos     ? hal::ArgSource::pos()
                       : s == Scalar::Layer ? hal::ArgSource::layer()
                                            : hal::ArgSource::rows());
    b.range = d.range.value_or(0);
    bound.push_back(std::move(b));
  }
  return bound;
}

} // namespace

absl::StatusOr<std::unique_ptr<BoundEntryPoint>> BoundEntryPoint::bind(
    const EntryPoint &entryPoint, const ArtifactMetadata &meta,
    const hal::Executable &kernels, const DeviceWeights &weights,
    KVCache &cache, hal::Device &device, comm::Communicator *communicator) {
  std::unique_ptr<BoundEntryPoint> ep(
      new BoundEntryPoint(entryPoint, meta.model.vocab, cache, device));
  for (const BufferInfo &info : entryPoint.buffers) {
    absl::StatusOr<std::unique_ptr<hal::Buffer>> buffer =
        device.allocate(info.bytes);
    if (!buffer.ok())
      return buffer.status();
    ep->buffers[info.id] = std::move(*buffer);
  }
  absl::StatusOr<std::unique_ptr<hal::Buffer>> tokens =
      device.allocate(entryPoint.tokens * sizeof(int32_t));
  if (!tokens.ok())
    return tokens.status();
  ep->tokenBuffer = std::move(*tokens);

  const Schedule &s = entryPoint.schedule;
  hal::Program &prog = ep->prog;
  prog.layers = meta.model.layers;
  for (auto [from, to] : {std::pair{&s.prologue, &prog.prologue},
                          {&s.layerBody, &prog.layerBody},
                          {&s.epilogue, &prog.epilogue}}) {
    absl::StatusOr<std::vector<hal::BoundDispatch>> bound = bindDispatches(
        *from, entryPoint, meta, kernels, weights, ep->buffers, *ep->tokenBuffer, cache,
        communicator);
    if (!bound.ok())
      return bound.status();
    *to = std::move(*bound);
  }
  if (!ep->buffers.count(entryPoint.logits))
    return absl::InvalidArgumentError(
        absl::StrCat("entry point ", entryPoint.name, ": no logits buffer ",
                     entryPoint.logits));
  // The artifact marks the per-token step; its launches do not depend on
  // the call (pos and rows are read from device memory on GPUs).
  prog.captureAsGraph = entryPoint.captureAsGraph;
  ep->paddedIds.assign(static_cast<size_t>(entryPoint.tokens), 0);
  if (!ep->buffers.at(entryPoint.logits)->hostData())
    ep->hostLogits.resize(static_cast<size_t>(
        (entryPoint.allLogitRows ? entryPoint.tokens : 1) * meta.model.vocab));
  return ep;
}

absl::StatusOr<const float *>
BoundEntryPoint::run(absl::Span<const int32_t> ids, int64_t pos) {
  if (ids.empty() || static_cast<int64_t>(ids.size()) > entry.tokens)
    return absl::InvalidArgumentError(absl::StrCat(
        entry.name, " takes 1 to ", entry.tokens, " tokens, not ", ids.size()));
  if (pos < 0 || pos + entry.tokens > cache.positions())
    return absl::OutOfRangeError(absl::StrCat(
        entry.name, " at position ", pos, " would run past the KV cache (",
        cache.positions(), " positions)"));
  // Kernels index embedding tables with these: an id out of range would
  // read outside the weights.
  for (int32_t id : ids)
    if (id < 0 || id >= vocab)
      return absl::InvalidArgumentError(absl::StrCat(
          "token id ", id, " is outside the vocabulary [0, ", vocab, ")"));
  // Before the token buffer is written: from a dispatch observer it may
  // belong to the program that is running.
  if (device.runningOnThisThread())
    return absl::FailedPreconditionError(absl::StrCat(
        entry.name, " was called from inside a dispatch observer of its own device "
        "(Session::observeDispatches): an observer must not run a session of a model "
        "on the same device"));
  std::copy(ids.begin(), ids.end(), paddedIds.begin());
  std::fill(paddedIds.begin() + ids.size(), paddedIds.end(), 0);
  if (absl::Status s =
          device.copyToDevice(*tokenBuffer, 0, paddedIds.data(),
                              paddedIds.size() * sizeof(int32_t));
      !s.ok())
    return s;
  // Before running: a failed run may still have written (a ring then
  // refuses roll-backs past what it overwrote).
  cache.noteWritten(pos + entry.tokens);
  hal::Invocation invocation;
  invocation.pos = pos;
  invocation.rows = static_cast<int64_t>(ids.size());
  if (absl::Status s = device.run(prog, invocation); !s.ok())
    return s;
  hal::Buffer &logits = *buffers.at(entry.logits);
  if (void *host = logits.hostData())
    return static_cast<const float *>(host);
  if (absl::Status s = device.copyToHost(hostLogits.data(), logits, 0,
                                         hostLogits.size() * sizeof(float));
      !s.ok())
    return s;
  return hostLogits.data();
}

void BoundEntryPoint::observe(DispatchObserver observer) {
  if (!observer) {
    prog.beforeDispatch = nullptr;
    return;
  }
  prog.beforeDispatch = [this, observer = std::move(observer)](
                            const hal::BoundDispatch &d, int64_t layer,
                            const hal::Invocation &invocation) {
    // The bound sections hold one dispatch per scheduled one, in order.
    for (auto [bound, scheduled] :
         {std::pair{&prog.prologue, &entry.schedule.prologue},
          {&prog.layerBody, &entry.schedule.layerBody},
          {&prog.epilogue, &entry.schedule.epilogue}})
      if (&d >= bound->data() && &d < bound->data() + bound->size()) {
        observer(entry, (*scheduled)[static_cast<size_t>(&d - bound->data())], d, layer,
                 invocation);
        return;
      }
  };
}

} // namespace llamac::runtime
