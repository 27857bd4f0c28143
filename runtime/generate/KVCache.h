//===- KVCache.h - the static key/value cache -------------------*- C++ -*-===//
//
// Two buffers, K and V, each [layers, positions, kv_heads, head_dim] in the
// artifact's KV dtype (f32, bf16 or f16), allocated once for the positions a
// run asks for (`--max-seq-len`, at most the compiled maximum) and written in
// place by the compiled graph at `pos` (design decision 4). Kernels take one
// layer's slice, whose layout does not depend on the number of positions, so
// one artifact runs with a cache of any length. Rolling back (speculative
// decoding) is resetting `pos`; the cache itself is never copied or cleared.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_GENERATE_KVCACHE_H
#define LLAMAC_RUNTIME_GENERATE_KVCACHE_H

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/hal/Device.h"

#include "absl/status/statusor.h"

#include <memory>

namespace llamac::runtime {

class KVCache {
public:
  /// A cache of `positions` positions (1 .. info.positions) per layer.
  static absl::StatusOr<std::unique_ptr<KVCache>>
  allocate(hal::Device &device, const KVCacheInfo &info, int64_t positions);

  const KVCacheInfo &info() const { return cacheInfo; }
  /// Positions allocated (not the compiled maximum, info().positions).
  int64_t positions() const { return allocatedPositions; }
  void *keys() { return k->data(); }
  void *values() { return v->data(); }
  /// Bytes of one layer's slice of K (or of V).
  uint64_t layerBytes() const { return k->size() / cacheInfo.layers; }
  /// Bytes of both caches together.
  uint64_t bytes() const { return k->size() + v->size(); }

private:
  KVCache(const KVCacheInfo &info, int64_t positions,
          std::unique_ptr<hal::Buffer> k, std::unique_ptr<hal::Buffer> v)
      : cacheInfo(info), allocatedPositions(positions), k(std::move(k)),
        v(std::move(v)) {}
  KVCacheInfo cacheInfo;
  int64_t allocatedPositions;
  std::unique_ptr<hal::Buffer> k;
  std::unique_ptr<hal::Buffer> v;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_GENERATE_KVCACHE_H
