//===- BoundEntryPoint.cpp - an entry point ready to run ------------------===//

#include "runtime/generate/BoundEntryPoint.h"

#include "absl/strings/str_cat.h"

#include <cstring>

namespace llamac::runtime {

namespace {

absl::StatusOr<std::vector<hal::BoundDispatch>>
bindDispatches(const std::vector<Dispatch> &dispatches,
               const ArtifactMetadata &meta, const KernelLibrary &kernels,
               const std::map<int64_t, std::unique_ptr<hal::Buffer>> &buffers,
               hal::Buffer &tokens, KVCache &cache) {
  std::vector<hal::BoundDispatch> bound;
  for (const Dispatch &d : dispatches) {
    hal::BoundDispatch b;
    b.kernel = d.kernel;
    absl::StatusOr<PackedKernelFn> fn = kernels.lookup(d.kernel);
    if (!fn.ok())
      return fn.status();
    b.fn = *fn;
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
            binding.weightIndex >= static_cast<int64_t>(meta.weights.size()))
          return absl::InvalidArgumentError(
              absl::StrCat("kernel ", d.kernel, " binds unknown weight ",
                           binding.weightName));
        const WeightInfo &w = meta.weights[binding.weightIndex];
        b.args.push_back(
            binding.perLayer
                ? hal::ArgSource::layerSlice(w.data, w.layerStride())
                : hal::ArgSource::pointer(const_cast<void *>(w.data)));
        break;
      }
      case Binding::Kind::KCache:
        b.args.push_back(hal::ArgSource::pointer(cache.keys()));
        break;
      case Binding::Kind::VCache:
        b.args.push_back(hal::ArgSource::pointer(cache.values()));
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
    const KernelLibrary &kernels, KVCache &cache, hal::Device &device) {
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
        *from, meta, kernels, ep->buffers, *ep->tokenBuffer, cache);
    if (!bound.ok())
      return bound.status();
    *to = std::move(*bound);
  }
  if (!ep->buffers.count(entryPoint.logits))
    return absl::InvalidArgumentError(
        absl::StrCat("entry point ", entryPoint.name, ": no logits buffer ",
                     entryPoint.logits));
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
  auto *tokens = static_cast<int32_t *>(tokenBuffer->hostData());
  std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
  std::memset(tokens + ids.size(), 0,
              (entry.tokens - ids.size()) * sizeof(int32_t));
  hal::Invocation invocation;
  invocation.pos = pos;
  invocation.rows = static_cast<int64_t>(ids.size());
  if (absl::Status s = device.run(prog, invocation); !s.ok())
    return s;
  return static_cast<const float *>(buffers.at(entry.logits)->hostData());
}

} // namespace llamac::runtime
