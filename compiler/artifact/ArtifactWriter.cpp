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
#include <optional>

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

/// Bytes from the start of `base` to the first row of rank `rank`'s part
/// of a tensor split along its first axis (`shard`): where
/// addShardedWeights cuts that part from.
uint64_t viewRowOffset(const WeightSpec &base, const WeightShard &shard, int64_t rank,
                       int64_t ranks) {
  uint64_t rowBytes = base.byteSize() / static_cast<uint64_t>(base.shape[0]);
  return static_cast<uint64_t>(firstShardIndex(base.shape[0], shard.block, rank, ranks)) *
         rowBytes;
}

/// For each tensor of `table`, the index of the tensor its bytes can be
/// read from in place, or nullopt when it needs bytes of its own. A tensor
/// split by rows whose source (a tied classifier's embedding table) is in
/// the table whole, unquantized and in the same dtype, has every rank's
/// part among the source's bytes: a run of its rows, which every rank's
/// table lists as a view (`view_of`) instead of a copy. Only where each
/// rank's rows start on the file's alignment, which the reader asks of
/// every weight (for the usual shapes they do: Llama 3's 128256 rows over
/// 2, 4 or 8 ranks, any row of a multiple of 256 bytes).
std::vector<std::optional<size_t>> viewBases(const std::vector<WeightSpec> &table,
                                             int64_t ranks) {
  std::vector<std::optional<size_t>> bases(table.size());
  for (const auto &[i, spec] : llvm::enumerate(table)) {
    // A quantized classifier's bytes are its own encoding, not the table's.
    if (!spec.shard || spec.quantized || spec.source.empty() || spec.shard->axis != 0 ||
        spec.shard->block != 1 || spec.shape.empty())
      continue;
    auto base = llvm::find_if(table, [&](const WeightSpec &b) { return b.name == spec.source; });
    if (base == table.end() || base->shard || base->quantized || !base->source.empty() ||
        base->dtype != spec.dtype || base->shape != spec.shard->fullShape ||
        base->shape.size() != spec.shape.size() ||
        !std::equal(spec.shape.begin() + 1, spec.shape.end(), base->shape.begin() + 1))
      continue;
    bool inPlace = true;
    for (int64_t rank = 0; rank < ranks; ++rank) {
      int64_t first = firstShardIndex(base->shape[0], spec.shard->block, rank, ranks);
      inPlace &= first + spec.shape[0] <= base->shape[0] &&
                 viewRowOffset(*base, *spec.shard, rank, ranks) % artifact::kSectionAlignment == 0;
    }
    if (inPlace)
      bases[i] = static_cast<size_t>(base - table.begin());
  }
  return bases;
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
  meta.promptWithoutBos = c.promptWithoutBos;
  meta.readerRequirements = meta.requirementsOfFields();
  meta.kernelSignatures = c.kernelSignatures;
  meta.kernels = {c.kernelFormat, kernelsOffset, c.kernelLibrary.size(),
                  artifact::checksum(c.kernelLibrary.data(), c.kernelLibrary.size())};
  if (!c.kernelPtx.empty())
    meta.kernelsPtx = runtime::SectionInfo{
        "ptx", ptxOffset, c.kernelPtx.size(),
        artifact::checksum(c.kernelPtx.data(), c.kernelPtx.size())};

  // Each weight's bytes, in the file's order: rank 0's table, then each
  // other rank's parts of the split tensors (its replicated ones are rank
  // 0's bytes). A view (every rank's rows of a tied classifier) has no
  // bytes of its own: it is rows of its base's (viewBases).
  struct Planned {
    std::string source; ///< the weight-store tensor streamed
    uint64_t offset, size;
    int64_t rank;  ///< the table its entry is in
    size_t index;  ///< its entry's index in that table
  };
  /// A view's bytes are written as its base's: its checksum is taken over
  /// them as they go by.
  struct PlannedView {
    size_t base; ///< the planned tensor whose bytes hold the view's
    uint64_t offset, size;
    int64_t rank;
    size_t index;
  };
  std::vector<Planned> planned;
  std::vector<PlannedView> views;
  uint64_t totalWeightBytes = 0;
  const int64_t ranks = c.tensorParallel;
  const size_t count = c.weightTable.size();
  const std::vector<std::optional<size_t>> bases = viewBases(c.weightTable, ranks);
  // Rank 0's planned tensor of each spec that has bytes of its own.
  std::vector<size_t> plannedOf(count, 0);
  // Fills entry `i` of rank `rank`'s table.
  auto plan = [&](size_t i, int64_t rank, std::vector<runtime::WeightInfo> &table) {
    const WeightSpec &spec = c.weightTable[i];
    uint64_t size = spec.byteSize();
    runtime::WeightInfo &weight = table[i];
    weight.name = spec.name;
    weight.dtype = spec.dtype;
    weight.shape = spec.shape;
    weight.size = size;
    if (bases[i]) {
      // Its rows of the base, whose rank 0 entry is planned first.
      const WeightSpec &base = c.weightTable[*bases[i]];
      weight.viewOf = base.name;
      weight.offset =
          meta.weights[*bases[i]].offset + viewRowOffset(base, *spec.shard, rank, ranks);
      views.push_back({plannedOf[*bases[i]], weight.offset, size, rank, i});
      return;
    }
    weight.offset = offset;
    if (rank == 0)
      plannedOf[i] = planned.size();
    planned.push_back({spec.shard ? shardTensorName(spec.name, rank) : spec.storeTensor(), offset,
                       size, rank, i});
    totalWeightBytes += size;
    offset = alignUp(offset + size);
  };
  // Rank 0's tensors with bytes of their own in the table's order, then
  // its views, which need their bases' offsets.
  meta.weights.resize(count);
  for (size_t i = 0; i < count; ++i)
    if (!bases[i])
      plan(i, 0, meta.weights);
  for (size_t i = 0; i < count; ++i)
    if (bases[i])
      plan(i, 0, meta.weights);
  if (ranks > 1) {
    meta.tensorParallel.emplace();
    meta.tensorParallel->ranks = ranks;
    meta.tensorParallel->rankWeights.resize(ranks - 1);
    for (int64_t rank = 1; rank < ranks; ++rank) {
      runtime::RankWeights &table = meta.tensorParallel->rankWeights[rank - 1];
      table.rank = rank;
      table.weights.resize(count);
      for (const auto &[i, spec] : llvm::enumerate(c.weightTable)) {
        if (spec.shard)
          plan(i, rank, table.weights);
        else
          table.weights[i] = meta.weights[i]; // checksum set below
      }
    }
  }
  // The entries, once the tables no longer grow.
  auto entry = [&](int64_t rank, size_t index) -> runtime::WeightInfo & {
    return rank == 0 ? meta.weights[index]
                     : meta.tensorParallel->rankWeights[rank - 1].weights[index];
  };

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
  /// What a view has been fed of its base's bytes.
  struct ViewCursor {
    uint64_t seen = 0;
    artifact::StreamingChecksum sum;
  };
  std::vector<ViewCursor> viewCursors(views.size());
  std::vector<std::vector<size_t>> viewsOf(planned.size());
  for (const auto &[v, view] : llvm::enumerate(views))
    viewsOf[view.base].push_back(v);
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
    // A tensor's bytes arrive in order: so do its views'.
    for (size_t v : viewsOf[i]) {
      uint64_t begin = std::max(cursor.at, views[v].offset);
      uint64_t end = std::min(cursor.at + bytes.size(), views[v].offset + views[v].size);
      if (begin < end) {
        viewCursors[v].sum.update(bytes.data() + (begin - cursor.at), end - begin);
        viewCursors[v].seen += end - begin;
      }
    }
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
                   p.source, entry(p.rank, p.index).dtype, scratch,
                   [&](llvm::ArrayRef<uint8_t> piece) { return append(i, piece); })) {
      return std::move(err);
    }
  }
  for (const auto &[i, p] : llvm::enumerate(planned)) {
    if (cursors[i].at != p.offset + p.size)
      return makeError("internal error: weight '" + p.source + "' got " +
                       llvm::Twine(cursors[i].at - p.offset) + " bytes, expected " +
                       llvm::Twine(p.size));
    entry(p.rank, p.index).checksum = cursors[i].sum.digest();
  }
  for (const auto &[v, view] : llvm::enumerate(views)) {
    runtime::WeightInfo &w = entry(view.rank, view.index);
    if (viewCursors[v].seen != view.size)
      return makeError("internal error: view '" + w.name + "' of rank " +
                       llvm::Twine(view.rank) + " got " + llvm::Twine(viewCursors[v].seen) +
                       " bytes, expected " + llvm::Twine(view.size));
    w.checksum = viewCursors[v].sum.digest();
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
