//===- Artifact.cpp - map and validate a llamac artifact ------------------===//

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactFormat.h"

#include "absl/strings/str_cat.h"

#include <xxhash.h>

#include <cstring>

namespace llamac::runtime {

namespace {

absl::Status invalid(const std::string &path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

} // namespace

uint64_t Artifact::weightBytes() const {
  uint64_t total = 0;
  for (const WeightInfo &w : meta.weights)
    total += w.size;
  return total;
}

absl::StatusOr<std::unique_ptr<Artifact>>
Artifact::open(const std::string &path) {
  absl::StatusOr<std::unique_ptr<MappedFile>> file = MappedFile::open(path);
  if (!file.ok())
    return file.status();
  const uint64_t size = (*file)->size();
  if (size < sizeof(artifact::Header))
    return invalid(path, absl::StrCat("too small to be a llamac artifact (",
                                      size, " bytes)"));
  artifact::Header header;
  std::memcpy(&header, (*file)->data(), sizeof(header));
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
  // Checked before anything beyond the header is read.
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
  const char *metadata =
      reinterpret_cast<const char *>((*file)->data()) + header.metadataOffset;
  if (XXH3_64bits(metadata, header.metadataSize) != header.metadataHash)
    return invalid(path, "metadata checksum mismatch (the file is corrupted)");

  absl::StatusOr<ArtifactMetadata> meta = parseArtifactMetadata(
      absl::string_view(metadata, header.metadataSize), size);
  if (!meta.ok())
    return invalid(path, meta.status().message());
  for (WeightInfo &w : meta->weights)
    w.data = (*file)->data() + w.offset;
  return std::unique_ptr<Artifact>(
      new Artifact(path, std::move(*file), std::move(*meta)));
}

} // namespace llamac::runtime
