//===- ArtifactMetadata.h - the artifact's parsed JSON metadata --*- C++ -*-===//
//
// The metadata of docs/artifact-format.md: its types (ArtifactSchema.h,
// shared with the compiler), the parser that validates it, and the
// serializer the compiler's writer uses. Parsing is separate from mapping
// the file so that it can be tested on JSON text alone; `Artifact::open`
// does both.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_ARTIFACTMETADATA_H
#define LLAMAC_RUNTIME_ARTIFACT_ARTIFACTMETADATA_H

#include "runtime/artifact/ArtifactSchema.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <cstdint>
#include <string>

namespace llamac::runtime {

/// Parses and validates the metadata JSON. `fileSize` bounds the sections
/// (every section must lie in [kSectionAlignment, fileSize)). Errors name
/// the offending field, e.g. "metadata: model.vocab is missing"; the caller
/// prefixes the file name.
absl::StatusOr<ArtifactMetadata> parseArtifactMetadata(absl::string_view json,
                                                       uint64_t fileSize);

/// The JSON text of `meta`, as the compiler writes it.
std::string serializeArtifactMetadata(const ArtifactMetadata &meta);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_ARTIFACTMETADATA_H
