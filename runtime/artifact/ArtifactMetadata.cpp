//===- ArtifactMetadata.cpp - parse, check and write the metadata ---------===//

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/artifact/MetadataChecks.h"
#include "runtime/artifact/MetadataJson.h"

namespace llamac::runtime {

absl::StatusOr<ArtifactMetadata> parseArtifactMetadata(absl::string_view text,
                                                       uint64_t fileSize) {
  absl::StatusOr<ArtifactMetadata> meta = readMetadataJson(text);
  if (!meta.ok())
    return meta.status();
  if (absl::Status checked = checkMetadata(*meta, fileSize); !checked.ok())
    return checked;
  return meta;
}

std::string serializeArtifactMetadata(const ArtifactMetadata &meta) {
  return writeMetadataJson(meta);
}

} // namespace llamac::runtime
