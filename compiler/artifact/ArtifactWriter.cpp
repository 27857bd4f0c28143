//===- ArtifactWriter.cpp - write a compiled model to disk ----------------===//

#include "compiler/artifact/ArtifactWriter.h"
#include "runtime/artifact/ArtifactFormat.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include <cstring>

namespace llamac {
namespace {

using nlohmann::json;

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Bytes of converted weights written per write(): large enough that
/// system calls cost nothing next to the conversion, small next to the
/// memory a compile needs anyway.
constexpr size_t kWeightChunkBytes = size_t(8) << 20;

uint64_t alignUp(uint64_t value) {
  uint64_t a = artifact::kSectionAlignment;
  return (value + a - 1) / a * a;
}

json bindingToJson(const Binding &binding) {
  switch (binding.kind) {
  case Binding::Kind::Buffer:
    return {{"kind", "buffer"}, {"id", binding.bufferId}};
  case Binding::Kind::Weight:
    return {{"kind", "weight"}, {"name", binding.weightName}, {"per_layer", binding.perLayer}};
  case Binding::Kind::KCache:
    return {{"kind", "k_cache"}};
  case Binding::Kind::VCache:
    return {{"kind", "v_cache"}};
  case Binding::Kind::Tokens:
    return {{"kind", "tokens"}};
  }
  return {};
}

json dispatchesToJson(const std::vector<Dispatch> &dispatches) {
  json list = json::array();
  for (const Dispatch &d : dispatches) {
    json entry = {{"kernel", d.kernel}, {"scalars", d.scalars}};
    entry["bindings"] = json::array();
    for (const Binding &b : d.bindings)
      entry["bindings"].push_back(bindingToJson(b));
    if (d.range)
      entry["range"] = *d.range;
    if (d.launch)
      entry["launch"] = {{"grid", d.launch->grid},
                         {"block", d.launch->block},
                         {"shared_bytes", d.launch->sharedBytes}};
    list.push_back(std::move(entry));
  }
  return list;
}

json modelToJson(mlir::llama::ConfigAttr c) {
  json model = {{"dim", c.getDim()},
                {"hidden_dim", c.getHiddenDim()},
                {"layers", c.getLayers()},
                {"heads", c.getHeads()},
                {"kv_heads", c.getKvHeads()},
                {"head_dim", c.getHeadDim()},
                {"vocab", c.getVocab()},
                {"max_seq_len", c.getMaxSeqLen()},
                {"norm_eps", c.getNormEps().convertToDouble()},
                {"rope_theta", c.getRopeTheta().convertToDouble()},
                {"bos", c.getBos()}};
  model["eos"] = std::vector<int64_t>(c.getEos().asArrayRef().begin(),
                                      c.getEos().asArrayRef().end());
  return model;
}

/// Writes at explicit offsets, zero-filling the gaps, so that sections land
/// on their aligned offsets.
class SectionWriter {
public:
  explicit SectionWriter(llvm::raw_fd_ostream &os) : os(os) {}
  void padTo(uint64_t offset) {
    static const char zeros[4096] = {};
    while (position < offset) {
      uint64_t n = std::min<uint64_t>(sizeof(zeros), offset - position);
      os.write(zeros, n);
      position += n;
    }
  }
  void write(const void *data, uint64_t size) {
    os.write(static_cast<const char *>(data), size);
    position += size;
  }
  uint64_t tell() const { return position; }

private:
  llvm::raw_fd_ostream &os;
  uint64_t position = 0;
};

} // namespace

llvm::Expected<uint64_t> writeArtifact(const std::string &path,
                                       const ArtifactContents &c,
                                       const WriteProgress &progress) {
  // Plan the layout: tokenizer, kernels, weights, then metadata.
  uint64_t offset = artifact::kSectionAlignment;
  uint64_t tokenizerOffset = offset;
  offset = alignUp(offset + c.tokenizer.size());
  uint64_t kernelsOffset = offset;
  offset = alignUp(offset + c.kernelLibrary.size());
  uint64_t ptxOffset = offset;
  offset = alignUp(offset + c.kernelPtx.size());

  json weights = json::array();
  struct Planned {
    const WeightSpec *spec;
    uint64_t offset, size;
  };
  std::vector<Planned> planned;
  uint64_t totalWeightBytes = 0;
  for (const WeightSpec &spec : c.weightTable) {
    uint64_t size = spec.byteSize();
    planned.push_back({&spec, offset, size});
    weights.push_back({{"name", spec.name},
                       {"dtype", dtypeName(spec.dtype).str()},
                       {"shape", spec.shape},
                       {"offset", offset},
                       {"size", size}});
    totalWeightBytes += size;
    offset = alignUp(offset + size);
  }

  json meta;
  meta["producer"] = "llamac 0.1";
  meta["model"] = modelToJson(c.config);
  meta["target"] = {{"name", c.targetName}, {"chip", c.chip}, {"bf16_dot", c.bf16Dot}};
  if (c.targetName == "cpu")
    meta["target"]["cpu_features"] = c.cpuFeatures;
  meta["tokenizer"] = {{"kind", "sentencepiece"}, {"offset", tokenizerOffset},
                       {"size", c.tokenizer.size()}};
  meta["kernels"] = {{"format", c.kernelFormat}, {"offset", kernelsOffset},
                     {"size", c.kernelLibrary.size()}};
  if (!c.kernelPtx.empty())
    meta["kernels_ptx"] = {{"format", "ptx"}, {"offset", ptxOffset}, {"size", c.kernelPtx.size()}};
  meta["weights"] = std::move(weights);
  meta["kv_cache"] = {{"dtype", dtypeName(c.cacheType).str()},
                      {"layers", c.config.getLayers()},
                      {"kv_heads", c.config.getKvHeads()},
                      {"positions", c.cachePositions},
                      {"head_dim", c.config.getHeadDim()}};
  json entryPoints = json::object();
  for (const EntryPointSchedule &ep : c.entryPoints) {
    json buffers = json::array();
    for (const BufferDesc &b : ep.buffers)
      buffers.push_back({{"id", b.id}, {"dtype", "f32"}, {"shape", b.shape}});
    entryPoints[ep.name] = {{"tokens", ep.tokens},
                            {"logits_rows", ep.allLogitRows ? "all" : "last"},
                            {"graph", ep.captureAsGraph},
                            {"buffers", std::move(buffers)},
                            {"logits", ep.logitsBuffer},
                            {"schedule",
                             {{"prologue", dispatchesToJson(ep.prologue)},
                              {"layer_body", dispatchesToJson(ep.layerBody)},
                              {"epilogue", dispatchesToJson(ep.epilogue)}}}};
    // Written only where true: older readers need not know it.
    if (ep.rowsMatchStep)
      entryPoints[ep.name]["rows_match_step"] = true;
  }
  meta["entry_points"] = std::move(entryPoints);
  std::string metadata = meta.dump();
  uint64_t metadataOffset = offset;
  uint64_t fileSize = metadataOffset + metadata.size();

  artifact::Header header{};
  std::memcpy(header.magic, artifact::kMagic, sizeof(header.magic));
  header.formatVersion = artifact::kFormatVersion;
  header.headerSize = sizeof(artifact::Header);
  header.metadataOffset = metadataOffset;
  header.metadataSize = metadata.size();
  header.metadataHash = XXH3_64bits(metadata.data(), metadata.size());
  header.fileSize = fileSize;

  std::string tmpPath = path + ".tmp";
  // An interrupted compile (Ctrl-C, SIGTERM) removes its partial file; the
  // final name only ever holds a complete artifact (rename below).
  llvm::sys::RemoveFileOnSignal(tmpPath);
  auto forgetTmp = llvm::make_scope_exit([&] { llvm::sys::DontRemoveFileOnSignal(tmpPath); });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmpPath, ec);
    if (ec)
      return makeError("cannot write " + tmpPath + ": " + ec.message());
    SectionWriter w(os);
    w.write(&header, sizeof(header));
    w.padTo(tokenizerOffset);
    w.write(c.tokenizer.data(), c.tokenizer.size());
    w.padTo(kernelsOffset);
    w.write(c.kernelLibrary.data(), c.kernelLibrary.size());
    w.padTo(ptxOffset);
    w.write(c.kernelPtx.data(), c.kernelPtx.size());
    uint64_t written = 0;
    std::vector<uint8_t> scratch(kWeightChunkBytes);
    for (const Planned &p : planned) {
      w.padTo(p.offset);
      llvm::Error err = c.weights->stream(
          p.spec->name, p.spec->dtype, scratch, [&](llvm::ArrayRef<uint8_t> piece) {
            w.write(piece.data(), piece.size());
            written += piece.size();
            if (progress)
              progress(written, totalWeightBytes);
            return llvm::Error::success();
          });
      if (!err && w.tell() != p.offset + p.size)
        err = makeError("internal error: weight '" + p.spec->name + "' streamed " +
                        llvm::Twine(w.tell() - p.offset) + " bytes, expected " +
                        llvm::Twine(p.size));
      if (err) {
        os.close();
        llvm::sys::fs::remove(tmpPath);
        return std::move(err);
      }
    }
    w.padTo(metadataOffset);
    w.write(metadata.data(), metadata.size());
    os.close();
    if (os.has_error()) {
      llvm::sys::fs::remove(tmpPath);
      return makeError("writing " + tmpPath + " failed: " + os.error().message());
    }
  }
  if (auto ec = llvm::sys::fs::rename(tmpPath, path)) {
    llvm::sys::fs::remove(tmpPath);
    return makeError("cannot rename " + tmpPath + " to " + path + ": " + ec.message());
  }
  return totalWeightBytes;
}

} // namespace llamac
