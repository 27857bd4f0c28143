//===- KVCache.h - the static key/value cache -------------------*- C++ -*-===//
//
// Two f32 buffers, K and V, each [layers, kv_heads, positions, head_dim],
// allocated once and written in place by the compiled graph at `pos`
// (design decision 4). Rolling back (speculative decoding) is resetting
// `pos`; the cache itself is never copied or cleared.
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
  static absl::StatusOr<std::unique_ptr<KVCache>>
  allocate(hal::Device &device, const KVCacheInfo &info);

  const KVCacheInfo &info() const { return cacheInfo; }
  int64_t positions() const { return cacheInfo.positions; }
  void *keys() { return k->data(); }
  void *values() { return v->data(); }
  /// Bytes of both caches together.
  uint64_t bytes() const { return k->size() + v->size(); }

private:
  KVCache(const KVCacheInfo &info, std::unique_ptr<hal::Buffer> k,
          std::unique_ptr<hal::Buffer> v)
      : cacheInfo(info), k(std::move(k)), v(std::move(v)) {}
  KVCacheInfo cacheInfo;
  std::unique_ptr<hal::Buffer> k;
  std::unique_ptr<hal::Buffer> v;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_GENERATE_KVCACHE_H
