//===- ArtifactWriter.cpp - write a compiled model to disk ----------------===//

#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/artifact/ShardedWeights.h"
#include "compiler/support/OutputFile.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/artifact/Checksum.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <cstring>

namespace llamac {
namespace {

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

/// The model description the artifact's metadata holds, from the IR's.
runtime::ModelInfo modelInfo(mlir::llama::ConfigAttr c) {
  runtime::ModelInfo m;
  m.dim = c.getDim();
  m.hiddenDim = c.getHiddenDim();
  m.layers = c.getLayers();
  m.heads = c.getHeads();
  m.kvHeads = c.getKvHeads();
  m.headDim = c.getHeadDim();
  m.vocab = c.getVocab();
  m.maxSeqLen = c.getMaxSeqLen();
  m.normEps = c.getNormEps().convertToDouble();
  m.ropeTheta = c.getRopeTheta().convertToDouble();
  m.bos = c.getBos();
  m.eos.assign(c.getEos().asArrayRef().begin(), c.getEos().asArrayRef().end());
  // Only a window the attention kernels apply (below max_seq_len, so within
  // the metadata's size limits; a config may give any positive number).
  m.attentionWindow = c.getBoundingWindow().value_or(0);
  m.experts = c.getExperts().value_or(0);
  m.expertsPerToken = c.getExpertsPerToken().value_or(0);
  return m;
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

  runtime::ArtifactMetadata meta;
  meta.producer = "llamac 0.1";
  meta.model = modelInfo(c.config);
  meta.target.name = c.targetName;
  meta.target.chip = c.chip;
  meta.target.bf16Dot = c.bf16Dot;
  meta.target.bf16DotFma = c.bf16DotFma;
  meta.target.intDot = c.intDot;
  meta.target.amx = c.amx;
  meta.target.amxFeatures = c.amxFeatures;
  if (c.targetName == "cpu")
    meta.target.cpuFeatures = c.cpuFeatures;
  meta.tokenizer = {c.tokenizerKind, tokenizerOffset, c.tokenizer.size(),
                    artifact::checksum(c.tokenizer.data(), c.tokenizer.size())};
  meta.chatTemplate = c.chatTemplate;
  meta.kernelSignatures = c.kernelSignatures;
  meta.kernels = {c.kernelFormat, kernelsOffset, c.kernelLibrary.size(),
                  artifact::checksum(c.kernelLibrary.data(), c.kernelLibrary.size())};
  if (!c.kernelPtx.empty())
    meta.kernelsPtx = runtime::SectionInfo{
        "ptx", ptxOffset, c.kernelPtx.size(),
        artifact::checksum(c.kernelPtx.data(), c.kernelPtx.size())};

  // Each weight's bytes, in the file's order: rank 0's table, then each
  // other rank's parts of the split tensors (its replicated ones are rank
  // 0's bytes).
  struct Planned {
    std::string source; ///< the weight-store tensor streamed
    uint64_t offset, size;
    runtime::WeightInfo *info;
  };
  std::vector<Planned> planned;
  uint64_t totalWeightBytes = 0;
  const int64_t ranks = c.tensorParallel;
  auto plan = [&](const WeightSpec &spec, int64_t rank,
                  std::vector<runtime::WeightInfo> &table) {
    uint64_t size = spec.byteSize();
    runtime::WeightInfo weight;
    weight.name = spec.name;
    weight.dtype = spec.dtype;
    weight.shape = spec.shape;
    weight.offset = offset;
    weight.size = size;
    table.push_back(std::move(weight));
    planned.push_back({spec.shard ? shardTensorName(spec.name, rank) : spec.storeTensor(), offset,
                       size, nullptr});
    totalWeightBytes += size;
    offset = alignUp(offset + size);
  };
  for (const WeightSpec &spec : c.weightTable)
    plan(spec, 0, meta.weights);
  if (ranks > 1) {
    meta.tensorParallel.emplace();
    meta.tensorParallel->ranks = ranks;
    meta.tensorParallel->rankWeights.resize(ranks - 1);
    for (int64_t rank = 1; rank < ranks; ++rank) {
      runtime::RankWeights &table = meta.tensorParallel->rankWeights[rank - 1];
      table.rank = rank;
      for (const auto &[i, spec] : llvm::enumerate(c.weightTable)) {
        if (spec.shard)
          plan(spec, rank, table.weights);
        else
          table.weights.push_back(meta.weights[i]); // checksum set below
      }
    }
  }
  // Pointers into the tables once they no longer grow.
  {
    size_t next = 0;
    for (runtime::WeightInfo &w : meta.weights)
      planned[next++].info = &w;
    if (meta.tensorParallel)
      for (runtime::RankWeights &table : meta.tensorParallel->rankWeights)
        for (const auto &[i, spec] : llvm::enumerate(c.weightTable))
          if (spec.shard)
            planned[next++].info = &table.weights[i];
  }

  meta.kvCache.dtype = c.cacheType;
  meta.kvCache.layers = meta.model.layers;
  // Each rank caches the kv heads its query heads read.
  meta.kvCache.kvHeads = std::max<int64_t>(meta.model.kvHeads / ranks, 1);
  meta.kvCache.positions = c.cachePositions;
  meta.kvCache.headDim = meta.model.headDim;
  for (const EntryPoint &ep : c.entryPoints)
    meta.entryPoints[ep.name] = ep;
  // The metadata follows the weights: it holds their checksums, known once
  // they are streamed, and the header (written last) holds its own.
  uint64_t metadataOffset = offset;

  auto file = OutputFile::create(path, c.inputFiles);
  if (!file)
    return file.takeError();
  OutputFile &out = **file;
  // Any error returns before commit(): `out` then removes its temporary and
  // an existing artifact at `path` stays as it was.
  artifact::Header header{}; // Overwritten once the metadata is known.
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
  // The weights region is extended first and each tensor written at its
  // offset: a computed group fills several tensors at once, a slab of each
  // at a time, wherever they lie.
  if (llvm::Error err = out.extendTo(metadataOffset))
    return std::move(err);
  llvm::StringMap<ComputedWeights *> computedBy;
  for (const std::shared_ptr<ComputedWeights> &group : c.computedWeights)
    for (const std::string &name : group->tensorNames())
      if (!computedBy.try_emplace(name, group.get()).second ||
          (c.weights && c.weights->lookup(name)))
        return makeError("internal error: weight '" + name + "' has two sources");
  llvm::StringMap<size_t> plannedIndex;
  for (const auto &[i, p] : llvm::enumerate(planned))
    plannedIndex[p.source] = i;

  /// Where the next bytes of a planned tensor go, and their checksum so far.
  struct Cursor {
    uint64_t at = 0;
    artifact::StreamingChecksum sum;
  };
  std::vector<Cursor> cursors(planned.size());
  for (const auto &[i, p] : llvm::enumerate(planned))
    cursors[i].at = p.offset;
  uint64_t written = 0;
  auto append = [&](size_t i, llvm::ArrayRef<uint8_t> bytes) -> llvm::Error {
    const Planned &p = planned[i];
    Cursor &cursor = cursors[i];
    if (bytes.size() > p.offset + p.size - cursor.at)
      return makeError("internal error: weight '" + p.source + "' has more than its " +
                       llvm::Twine(p.size) + " bytes");
    if (llvm::Error err = out.overwrite(cursor.at, bytes.data(), bytes.size()))
      return err;
    cursor.sum.update(bytes.data(), bytes.size());
    cursor.at += bytes.size();
    written += bytes.size();
    if (progress)
      progress(written, totalWeightBytes);
    return llvm::Error::success();
  };
  auto writeGroup = [&](ComputedWeights &group) -> llvm::Error {
    for (int64_t slab = 0, e = group.slabs(); slab < e; ++slab)
      if (llvm::Error err = group.computeSlab(
              slab, [&](llvm::StringRef tensor, llvm::ArrayRef<uint8_t> bytes) -> llvm::Error {
                auto found = plannedIndex.find(tensor);
                if (found == plannedIndex.end())
                  return makeError("internal error: computed weight '" + tensor +
                                   "' is not in the weights table");
                return append(found->second, bytes);
              }))
        return err;
    return llvm::Error::success();
  };

  std::vector<uint8_t> scratch(kWeightChunkBytes);
  llvm::SmallPtrSet<ComputedWeights *, 8> groupsWritten;
  for (size_t i = 0; i < planned.size(); ++i) {
    const Planned &p = planned[i];
    if (ComputedWeights *group = computedBy.lookup(p.source)) {
      if (groupsWritten.insert(group).second)
        if (llvm::Error err = writeGroup(*group))
          return std::move(err);
    } else if (llvm::Error err = c.weights->stream(
                   p.source, p.info->dtype, scratch,
                   [&](llvm::ArrayRef<uint8_t> piece) { return append(i, piece); })) {
      return std::move(err);
    }
  }
  for (const auto &[i, p] : llvm::enumerate(planned)) {
    if (cursors[i].at != p.offset + p.size)
      return makeError("internal error: weight '" + p.source + "' got " +
                       llvm::Twine(cursors[i].at - p.offset) + " bytes, expected " +
                       llvm::Twine(p.size));
    p.info->checksum = cursors[i].sum.digest();
  }
  if (meta.tensorParallel)
    for (runtime::RankWeights &table : meta.tensorParallel->rankWeights)
      for (const auto &[i, spec] : llvm::enumerate(c.weightTable))
        if (!spec.shard)
          table.weights[i].checksum = meta.weights[i].checksum;
  std::string metadata = runtime::serializeArtifactMetadata(meta);
  if (llvm::Error err = out.padTo(metadataOffset))
    return std::move(err);
  if (llvm::Error err = out.write(metadata))
    return std::move(err);
  std::memcpy(header.magic, artifact::kMagic, sizeof(header.magic));
  header.formatVersion = artifact::kFormatVersion;
  header.headerSize = sizeof(artifact::Header);
  header.metadataOffset = metadataOffset;
  header.metadataSize = metadata.size();
  header.metadataChecksum = artifact::checksum(metadata.data(), metadata.size());
  header.fileSize = metadataOffset + metadata.size();
  header.headerChecksum = artifact::headerChecksum(header);
  if (llvm::Error err = out.overwrite(0, &header, sizeof(header)))
    return std::move(err);
  if (llvm::Error err = out.commit())
    return std::move(err);
  return totalWeightBytes;
}

} // namespace llamac
