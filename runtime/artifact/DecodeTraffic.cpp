//===- DecodeTraffic.cpp - bytes one decode step reads --------------------===//

#include "runtime/artifact/DecodeTraffic.h"

#include <map>
#include <set>

namespace llamac::runtime {


DecodeTraffic decodeTraffic(const ArtifactMetadata &meta) {
  DecodeTraffic t;
  for (const WeightInfo &w : meta.weights)
    if (w.viewOf.empty()) // a view's bytes are its base's
      t.artifactWeightBytes += w.size;

  // dtype by bytes: a model's f32 norm scales next to bf16 matrices do
  // not make it "mixed".
  std::map<std::string, uint64_t> bytesByDtype;
  for (const WeightInfo &w : meta.weights)
    bytesByDtype[std::string(dtypeName(w.dtype))] += w.size;
  uint64_t largest = 0;
  for (const auto &[name, bytes] : bytesByDtype)
    if (bytes > largest) {
      largest = bytes;
      t.weightDtype = name;
    }
  for (const auto &[name, bytes] : bytesByDtype)
    if (name != t.weightDtype && bytes * 10 > t.artifactWeightBytes)
      t.weightDtype = "mixed";

  const EntryPoint *decode = meta.stepEntryPoint();
  if (!decode)
    return t;
  // How many of decode's dispatches bind each weight. The embedding table
  // bound by one dispatch is the token's gather: one row. Bound by a second
  // one, it is a classifier tied to it, which reads the whole table (with one
  // layer that dispatch can sit in the prologue beside the gather, so where
  // it sits does not tell).
  std::map<int64_t, int> dispatchesBinding;
  for (const std::vector<Dispatch> *part :
       {&decode->schedule.prologue, &decode->schedule.layerBody, &decode->schedule.epilogue})
    for (const Dispatch &d : *part) {
      std::set<int64_t> bindsHere;
      for (const Binding &b : d.bindings) {
        if (b.kind != Binding::Kind::Weight)
          continue;
        int64_t index = b.weightIndex >= 0 ? b.weightIndex : meta.findWeight(b.weightName);
        if (index >= 0)
          bindsHere.insert(index);
      }
      for (int64_t index : bindsHere)
        ++dispatchesBinding[index];
    }

  for (const auto &[index, dispatches] : dispatchesBinding) {
    const WeightInfo &w = meta.weights[index];
    if (w.name == kEmbeddingWeight && dispatches == 1 &&
        !w.shape.empty() && w.shape[0] > 0) {
      uint64_t row = w.size / w.shape[0];
      t.weightBytesPerStep += row;
      t.embeddingBytesExcluded = w.size - row;
      continue;
    }
    // A mixture of experts' token reads only its picked experts.
    if (meta.model.isMixtureOfExperts() && w.name.rfind(kExpertWeightPrefix, 0) == 0) {
      t.weightBytesPerStep += w.size / meta.model.experts * meta.model.expertsPerToken;
      continue;
    }
    t.weightBytesPerStep += w.size;
  }
  return t;
}

double kvCacheBytesRead(const KVCacheInfo &kv, double context) {
  // K and V, each [layers, positions, kv_heads, head_dim].
  return 2.0 * kv.layers * kv.kvHeads * kv.headDim * context *
         dtypeSize(kv.dtype);
}

} // namespace llamac::runtime
