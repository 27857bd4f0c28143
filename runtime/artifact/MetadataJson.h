//===- MetadataJson.h - metadata to and from JSON text ----------*- C++ -*-===//
//
// The two directions of SchemaFields.h's field lists. Reading checks each
// field's presence, JSON type and declared range and names the field's path
// in its one error; the checks that span fields are MetadataChecks.h's.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_METADATAJSON_H
#define LLAMAC_RUNTIME_ARTIFACT_METADATAJSON_H

#include "runtime/artifact/ArtifactSchema.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <string>

namespace llamac::runtime {

/// Parses `text` field by field. Errors read "metadata: <path> <problem>",
/// e.g. "metadata: model.vocab is missing".
absl::StatusOr<ArtifactMetadata> readMetadataJson(absl::string_view text);

/// The JSON text of `meta` (keys sorted; optional fields at their default
/// left out).
std::string writeMetadataJson(const ArtifactMetadata &meta);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_METADATAJSON_H
