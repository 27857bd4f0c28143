//===- Artifact.cpp - map and validate a llamac artifact ------------------===//

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "runtime/artifact/Checksum.h"
#include "runtime/artifact/MetadataChecks.h"

#include "absl/strings/str_cat.h"

#include <set>

#include <cstring>

namespace llamac::runtime {

namespace {

absl::Status invalid(const std::string &path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

/// Bytes hashed between progress reports while weights are verified.
constexpr uint64_t kVerifyChunkBytes = uint64_t(64) << 20;

/// The header's fields that say where things are, checked before anything
/// beyond the header is read.
absl::Status checkHeader(const std::string &path, const artifact::Header &header,
                         uint64_t size) {
  if (std::memcmp(header.magic, artifact::kMagic, sizeof(header.magic)) != 0)
    return invalid(path, "not a llamac artifact (bad magic)");
  if (header.formatVersion > artifact::kFormatVersion)
    return invalid(
        path, absl::StrCat("artifact format version ", header.formatVersion,
                           " is newer than this llama-run supports (",
                           artifact::kFormatVersion,
                           "); rebuild llama-run or recompile the "
                           "model"));
  if (header.formatVersion != artifact::kFormatVersion)
    return invalid(
        path, absl::StrCat("artifact format version ", header.formatVersion,
                           " is not supported (this llama-run "
                           "reads version ",
                           artifact::kFormatVersion, "); recompile the model"));
  if (header.headerSize != sizeof(artifact::Header))
    return invalid(path, absl::StrCat("header size ", header.headerSize,
                                      " is not ", sizeof(artifact::Header)));
  if (artifact::headerChecksum(header) != header.headerChecksum)
    return invalid(path, "header checksum mismatch (the file is corrupted)");
  for (uint8_t byte : header.reserved)
    if (byte != 0)
      return invalid(path, "reserved header bytes are not zero");
  if (header.fileSize != size)
    return invalid(path, header.fileSize > size
                             ? absl::StrCat("truncated: the header says ",
                                            header.fileSize,
                                            " bytes but the file has ", size)
                             : absl::StrCat("the header says ", header.fileSize,
                                            " bytes but the file has ", size,
                                            " (corrupted)"));
  uint64_t metadataEnd;
  if (header.metadataOffset < sizeof(artifact::Header) ||
      __builtin_add_overflow(header.metadataOffset, header.metadataSize,
                             &metadataEnd) ||
      metadataEnd > size)
    return invalid(path, absl::StrCat("metadata [", header.metadataOffset,
                                      ", +", header.metadataSize,
                                      ") lies outside the file"));
  return absl::OkStatus();
}

/// A section's bytes against its checksum.
absl::Status checkSection(const std::string &path, const uint8_t *base,
                          const SectionInfo &s, absl::string_view name) {
  if (artifact::checksum(base + s.offset, s.size) != s.checksum)
    return invalid(path, absl::StrCat(name,
                                      " checksum mismatch (the file is "
                                      "corrupted)"));
  return absl::OkStatus();
}

} // namespace

uint64_t Artifact::weightBytes() const {
  uint64_t total = 0;
  for (const WeightInfo &w : meta.weights)
    if (w.viewOf.empty()) // a view's bytes are its base's
      total += w.size;
  return total;
}

absl::Status Artifact::verifyWeights(const VerifyProgress &progress,
                                     VerifiedWeights *verified) const {
  // Every rank's tables; a replicated tensor (one range) is read once. A
  // view (`view_of`) has its own range and checksum, though its bytes are
  // another weight's: rank 0's part of a tied classifier starts where the
  // embedding table does.
  std::vector<const WeightInfo *> all;
  std::set<std::pair<uint64_t, uint64_t>> ranges;
  uint64_t total = 0;
  auto add = [&](const std::vector<WeightInfo> &table) {
    for (const WeightInfo &w : table)
      if (ranges.insert({w.offset, w.size}).second) {
        all.push_back(&w);
        total += w.size;
      }
  };
  add(meta.weights);
  if (meta.tensorParallel)
    for (const RankWeights &table : meta.tensorParallel->rankWeights)
      add(table.weights);
  uint64_t done = 0;
  for (const WeightInfo *weight : all) {
    const WeightInfo &w = *weight;
    artifact::StreamingChecksum sum;
    const uint8_t *bytes = static_cast<const uint8_t *>(w.data);
    for (uint64_t at = 0; at < w.size; at += kVerifyChunkBytes) {
      uint64_t n = std::min(kVerifyChunkBytes, w.size - at);
      sum.update(bytes + at, n);
      done += n;
      if (progress)
        progress(done, total);
    }
    if (sum.digest() != w.checksum)
      return invalid(filePath, absl::StrCat("weight '", w.name,
                                            "' checksum mismatch (the file "
                                            "is corrupted)"));
  }
  if (verified)
    *verified = {all.size(), total};
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Artifact>>
Artifact::open(const std::string &path, int64_t rank) {
  absl::StatusOr<std::unique_ptr<MappedFile>> file = MappedFile::open(path);
  if (!file.ok())
    return file.status();
  const uint64_t size = (*file)->size();
  const uint8_t *base = (*file)->data();
  if (size < sizeof(artifact::Header))
    return invalid(path, absl::StrCat("too small to be a llamac artifact (",
                                      size, " bytes)"));
  artifact::Header header;
  std::memcpy(&header, base, sizeof(header));
  if (absl::Status s = checkHeader(path, header, size); !s.ok())
    return s;
  const char *metadata =
      reinterpret_cast<const char *>(base) + header.metadataOffset;
  if (artifact::checksum(metadata, header.metadataSize) !=
      header.metadataChecksum)
    return invalid(path, "metadata checksum mismatch (the file is corrupted)");

  absl::StatusOr<ArtifactMetadata> meta = parseArtifactMetadata(
      absl::string_view(metadata, header.metadataSize), size);
  if (!meta.ok())
    return invalid(path, meta.status().message());
  if (absl::Status s = checkSectionsDisjoint(*meta, header.metadataOffset,
                                             header.metadataSize);
      !s.ok())
    return invalid(path, s.message());
  // The sections the runtime interprets or executes are small next to the
  // weights: always checked.
  if (absl::Status s = checkSection(path, base, meta->tokenizer, "tokenizer");
      !s.ok())
    return s;
  if (absl::Status s = checkSection(path, base, meta->kernels, "kernels");
      !s.ok())
    return s;
  if (meta->kernelsPtx)
    if (absl::Status s =
            checkSection(path, base, *meta->kernelsPtx, "kernels_ptx");
        !s.ok())
      return s;
  int64_t ranks = meta->tensorParallelRanks();
  if (rank < 0 || rank >= ranks)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": has ", ranks, " tensor-parallel rank", ranks == 1 ? "" : "s",
        "; there is no rank ", rank));
  // Rank r's table takes rank 0's place: it lists the same tensors in the
  // same order, so the bindings' weight indices stay right.
  if (rank > 0)
    std::swap(meta->weights, meta->tensorParallel->rankWeights[rank - 1].weights);
  for (WeightInfo &w : meta->weights)
    w.data = base + w.offset;
  if (meta->tensorParallel)
    for (RankWeights &table : meta->tensorParallel->rankWeights)
      for (WeightInfo &w : table.weights)
        w.data = base + w.offset;
  return std::unique_ptr<Artifact>(
      new Artifact(path, std::move(*file), std::move(*meta), rank));
}

} // namespace llamac::runtime
