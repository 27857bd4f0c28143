//===- ArtifactWriter.cpp - write a compiled model to disk ----------------===//

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/support/OutputFile.h"
#include "runtime/artifact/ArtifactFormat.h"


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
  if (c.intDot)
    meta["target"]["int_dot"] = true;
  if (c.targetName == "cpu")
    meta["target"]["cpu_features"] = c.cpuFeatures;
  meta["tokenizer"] = {{"kind", c.tokenizerKind}, {"offset", tokenizerOffset},
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

  auto file = OutputFile::create(path, c.inputFiles);
  if (!file)
    return file.takeError();
  OutputFile &out = **file;
  // Any error returns before commit(): `out` then removes its temporary and
  // an existing artifact at `path` stays as it was.
  if (llvm::Error err = out.write(&header, sizeof(header)))
    return std::move(err);
  for (auto [sectionOffset, bytes] :
       {std::pair<uint64_t, llvm::StringRef>{tokenizerOffset, c.tokenizer},
        {kernelsOffset, c.kernelLibrary},
        {ptxOffset, c.kernelPtx}}) {
    if (llvm::Error err = out.padTo(sectionOffset))
      return std::move(err);
    if (llvm::Error err = out.write(bytes))
      return std::move(err);
  }
  uint64_t written = 0;
  std::vector<uint8_t> scratch(kWeightChunkBytes);
  for (const Planned &p : planned) {
    if (llvm::Error err = out.padTo(p.offset))
      return std::move(err);
    if (llvm::Error err = c.weights->stream(
            p.spec->name, p.spec->dtype, scratch,
            [&](llvm::ArrayRef<uint8_t> piece) -> llvm::Error {
              if (llvm::Error err = out.write(piece.data(), piece.size()))
                return err;
              written += piece.size();
              if (progress)
                progress(written, totalWeightBytes);
              return llvm::Error::success();
            }))
      return std::move(err);
    if (out.position() != p.offset + p.size)
      return makeError("internal error: weight '" + p.spec->name + "' streamed " +
                       llvm::Twine(out.position() - p.offset) + " bytes, expected " +
                       llvm::Twine(p.size));
  }
  if (llvm::Error err = out.padTo(metadataOffset))
    return std::move(err);
  if (llvm::Error err = out.write(metadata))
    return std::move(err);
  if (llvm::Error err = out.commit())
    return std::move(err);
  return totalWeightBytes;
}

} // namespace llamac
