//===- KVCache.cpp - the static key/value cache ---------------------------===//

#include "runtime/generate/KVCache.h"

namespace llamac::runtime {

absl::StatusOr<std::unique_ptr<KVCache>>
KVCache::allocate(hal::Device &device, const KVCacheInfo &info) {
  // The metadata parser has bounded the size, so this cannot overflow.
  uint64_t bytes = info.elements() * dtypeSize(info.dtype);
  absl::StatusOr<std::unique_ptr<hal::Buffer>> k = device.allocate(bytes);
  if (!k.ok())
    return k.status();
  absl::StatusOr<std::unique_ptr<hal::Buffer>> v = device.allocate(bytes);
  if (!v.ok())
    return v.status();
  return std::unique_ptr<KVCache>(
      new KVCache(info, std::move(*k), std::move(*v)));
}

} // namespace llamac::runtime
