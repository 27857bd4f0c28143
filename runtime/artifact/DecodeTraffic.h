//===- DecodeTraffic.h - bytes one decode step reads ------------*- C++ -*-===//
//
// Achieved bandwidth is bytes per step times steps per second, so the byte
// count must be what a step really reads. Every weight the decode schedule
// binds is read once per token, except the token embedding table: the
// embedding gather reads one row of it. Counting the whole table would
// inflate the GB/s of small-vocabulary-heavy models (stories260K's table is
// 11% of its weights), so it is counted as one row. The KV cache read grows
// with the position and is reported on its own.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_DECODETRAFFIC_H
#define LLAMAC_RUNTIME_ARTIFACT_DECODETRAFFIC_H

#include "runtime/artifact/ArtifactMetadata.h"

#include <cstdint>
#include <string>

namespace llamac::runtime {

/// The weight the runtime's artifacts call the token embedding table.
inline constexpr const char *kEmbeddingWeight = "tok_embeddings";
/// The stacked experts of a mixture (compiler/import/WeightStore.h's
/// weight_names::kExpertW1...): a decode step reads expertsPerToken of them.
inline constexpr const char *kExpertWeightPrefix = "layers.experts.";

struct DecodeTraffic {
  /// Bytes of the weight tensors in the artifact (a view counts none: its
  /// bytes are its base's).
  uint64_t artifactWeightBytes = 0;
  /// Weight bytes one decode step reads: every weight the decode schedule
  /// binds, with the embedding table counted as one row when only the
  /// prologue (the gather) binds it.
  uint64_t weightBytesPerStep = 0;
  /// Bytes of the embedding table left out (table minus one row); 0 when
  /// it is read whole (a classifier sharing it) or absent.
  uint64_t embeddingBytesExcluded = 0;
  /// The weights' element type ("f32", "bf16", ...), "mixed" when they
  /// differ (norm scales aside, the largest tensors decide), "" for none.
  std::string weightDtype;
};

/// The traffic of the "decode" entry point of `meta` (zero when absent).
DecodeTraffic decodeTraffic(const ArtifactMetadata &meta);

/// Bytes of K and V one decode step reads when attending over `context`
/// cached positions (all layers, all KV heads).
double kvCacheBytesRead(const KVCacheInfo &kv, double context);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_DECODETRAFFIC_H
