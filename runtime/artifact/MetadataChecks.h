//===- MetadataChecks.h - what the metadata's fields must agree on -*- C++ -*-===//
//
// The checks that span fields, after MetadataJson.h has read each one: sections
// inside the file, sizes that follow from shapes, bindings that name what
// exists, a KV cache and logits that fit the model.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_METADATACHECKS_H
#define LLAMAC_RUNTIME_ARTIFACT_METADATACHECKS_H

#include "runtime/artifact/ArtifactSchema.h"

#include "absl/status/status.h"

#include <cstdint>

namespace llamac::runtime {

/// Every key in `meta`'s `requires` is one this reader knows: a newer
/// llamac's artifact is refused, not run as if the key were absent.
/// (Artifacts written before `requires` set prompt_without_bos without
/// listing it; they still load.) Asked before any other error is reported,
/// since a newer artifact may change other fields too.
absl::Status checkRequirements(const ArtifactMetadata &meta);

/// Checks `meta` and fills what follows from it (entry point names, buffer
/// bytes, the weight each binding refers to). `fileSize` bounds the
/// sections. Errors read "metadata: <path> <problem>".
absl::Status checkMetadata(ArtifactMetadata &meta, uint64_t fileSize);

/// No two of the header's page, the sections, the weights and the metadata
/// (`[metadataOffset, +metadataSize)`) share a byte.
absl::Status checkSectionsDisjoint(const ArtifactMetadata &meta,
                                   uint64_t metadataOffset,
                                   uint64_t metadataSize);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_METADATACHECKS_H
