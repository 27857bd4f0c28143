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
// A sliding-window model's artifact may compile a ring (kv_cache.positions
// below model.max_seq_len): then a run's positions outnumber the slots
// allocated, position t lives in slot t mod slots, and a write overwrites
// the position `slots` before it. The cache remembers how far it was
// written so that a roll-back can tell whether the keys it needs are still
// there (oldestHeld).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_GENERATE_KVCACHE_H
#define LLAMAC_RUNTIME_GENERATE_KVCACHE_H

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/hal/Device.h"

#include "absl/status/statusor.h"

#include <algorithm>
#include <memory>

namespace llamac::runtime {

class KVCache {
public:
  /// A cache for runs of `positions` positions (at least 1; at most
  /// info.positions unless the cache is a ring). It allocates that many
  /// slots per layer, or a ring's info.positions where they are fewer.
  static absl::StatusOr<std::unique_ptr<KVCache>>
  allocate(hal::Device &device, const KVCacheInfo &info, int64_t positions);

  const KVCacheInfo &info() const { return cacheInfo; }
  /// Positions a run may address (not the compiled maximum, info().positions).
  int64_t positions() const { return addressablePositions; }
  /// Positions held at once: positions(), or a ring's fewer slots.
  int64_t slots() const { return allocatedSlots; }

  /// Records that a call wrote positions up to `end` (exclusive).
  void noteWritten(int64_t end) { writtenEnd = std::max(writtenEnd, end); }
  /// Forgets what was written at and past `position` (a roll-back); only a
  /// roll-back to 0 lets the ring forget the overwrites, since everything
  /// then is written again in order.
  void forgetFrom(int64_t position) {
    if (position == 0)
      writtenEnd = 0;
  }
  /// The oldest position still held: 0, or in a ring that has wrapped, the
  /// position `slots` before the furthest one written.
  int64_t oldestHeld() const { return std::max<int64_t>(0, writtenEnd - allocatedSlots); }
  void *keys() { return k->data(); }
  void *values() { return v->data(); }
  /// Bytes of one layer's slice of K (or of V).
  uint64_t layerBytes() const { return k->size() / cacheInfo.layers; }
  /// Bytes of both caches together.
  uint64_t bytes() const { return k->size() + v->size(); }

private:
  KVCache(const KVCacheInfo &info, int64_t positions, int64_t slots,
          std::unique_ptr<hal::Buffer> k, std::unique_ptr<hal::Buffer> v)
      : cacheInfo(info), addressablePositions(positions), allocatedSlots(slots),
        k(std::move(k)), v(std::move(v)) {}
  KVCacheInfo cacheInfo;
  int64_t addressablePositions;
  int64_t allocatedSlots;
  /// The furthest position written, exclusive (noteWritten).
  int64_t writtenEnd = 0;
  std::unique_ptr<hal::Buffer> k;
  std::unique_ptr<hal::Buffer> v;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_GENERATE_KVCACHE_H
