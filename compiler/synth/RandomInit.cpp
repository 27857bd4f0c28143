//===- RandomInit.cpp - seeded initial values for synthetic weights -------===//

#include "compiler/synth/RandomInit.h"

#include <cmath>

namespace llamac {

/// FNV-1a of the tensor name: stable across runs and platforms (std::hash
/// is neither), so the name picks the tensor's stream.
static uint64_t hashName(llvm::StringRef name) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : name.bytes())
    hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

TensorInit TensorInit::normal(uint64_t seed, llvm::StringRef tensorName,
                              float stddev) {
  // Four independent uniforms on {0..65535}: mean 4 * 32767.5, variance
  // 4 * (65536^2 - 1) / 12.
  const double sumStddev = std::sqrt(4.0 * (65536.0 * 65536.0 - 1.0) / 12.0);
  uint64_t key = splitmix64(seed ^ splitmix64(hashName(tensorName)));
  return TensorInit(key, static_cast<float>(stddev / sumStddev), 0.0f,
                    /*random=*/true);
}

TensorInit TensorInit::constant(float value) {
  return TensorInit(0, 0.0f, value, /*random=*/false);
}

void TensorInit::fill(uint64_t first, llvm::MutableArrayRef<float> out) const {
  if (!random) {
    for (float &element : out)
      element = value;
    return;
  }
  // Written as a plain counted loop over independent iterations so that the
  // compiler can vectorise it.
  constexpr float kMean = 4 * 32767.5f;
  float *data = out.data();
  uint64_t count = out.size();
  for (uint64_t i = 0; i < count; ++i) {
    // splitmix64's stream: the n-th output mixes key + n * golden ratio.
    uint64_t bits = splitmix64(key + (first + i) * 0x9e3779b97f4a7c15ull);
    uint32_t sum = static_cast<uint32_t>(bits & 0xffff) +
                   static_cast<uint32_t>((bits >> 16) & 0xffff) +
                   static_cast<uint32_t>((bits >> 32) & 0xffff) +
                   static_cast<uint32_t>(bits >> 48);
    data[i] = (static_cast<float>(sum) - kMean) * scale;
  }
}

} // namespace llamac
