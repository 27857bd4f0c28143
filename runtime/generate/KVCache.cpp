//===- KVCache.cpp - the static key/value cache ---------------------------===//

#include "runtime/generate/KVCache.h"

#include "absl/strings/str_cat.h"

namespace llamac::runtime {

absl::StatusOr<std::unique_ptr<KVCache>>
KVCache::allocate(hal::Device &device, const KVCacheInfo &info,
                  int64_t positions) {
  if (positions < 1 || (!info.ring && positions > info.positions))
    return absl::InvalidArgumentError(absl::StrCat(
        "a KV cache of ", positions, " positions does not fit the 1 to ",
        info.positions, " the artifact was compiled for"));
  const int64_t slots = std::min(positions, info.positions);
  // The metadata parser has bounded the compiled size, so this cannot
  // overflow.
  uint64_t bytes = static_cast<uint64_t>(info.layers) * slots *
                   info.kvHeads * info.headDim * dtypeSize(info.dtype);
  auto allocateOne = [&]() -> absl::StatusOr<std::unique_ptr<hal::Buffer>> {
    absl::StatusOr<std::unique_ptr<hal::Buffer>> buffer = device.allocate(bytes);
    if (!buffer.ok())
      return absl::ResourceExhaustedError(absl::StrCat(
          "the KV cache for ", slots, " positions (2 x ", bytes,
          " bytes): ", buffer.status().message(),
          "; ask for fewer positions with --max-seq-len (eval: --ctx)"));
    return buffer;
  };
  absl::StatusOr<std::unique_ptr<hal::Buffer>> k = allocateOne();
  if (!k.ok())
    return k.status();
  absl::StatusOr<std::unique_ptr<hal::Buffer>> v = allocateOne();
  if (!v.ok())
    return v.status();
  return std::unique_ptr<KVCache>(
      new KVCache(info, positions, slots, std::move(*k), std::move(*v)));
}

} // namespace llamac::runtime
