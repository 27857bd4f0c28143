//===- RandomInit.h - seeded values for synthetic weights -------*- C++ -*-===//
//
// Weights of a synthetic checkpoint are a pure function of (seed, tensor
// name, element index): a counter-based generator (splitmix64's mixing
// function applied to a per-tensor key plus the index) instead of a
// sequential RNG. So any chunk of any tensor can be generated on its own, in
// any order or chunk size, and the bytes never depend on how the writer
// split the work; and layer 0 of a `--layers 1` model equals layer 0 of the
// full model with the same seed.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SYNTH_RANDOMINIT_H
#define LLAMAC_COMPILER_SYNTH_RANDOMINIT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace llamac {

/// splitmix64's output function: a bijective 64-bit mix with good
/// avalanche, so consecutive inputs give independent-looking outputs.
inline uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// How one tensor's elements are initialised.
class TensorInit {
public:
  /// Approximately N(0, stddev^2): the Irwin-Hall sum of four 16-bit
  /// uniforms taken from one 64-bit draw, rescaled to `stddev`. Cheaper than
  /// Box-Muller by an order of magnitude, close to normal (excess kurtosis
  /// -0.3), and bounded by 3.46 standard deviations, so no outlier weight
  /// can blow up an activation.
  static TensorInit normal(uint64_t seed, llvm::StringRef tensorName,
                           float stddev);

  /// Every element equal to `value` (RMSNorm gains).
  static TensorInit constant(float value);

  /// Writes elements [first, first + out.size()) of the tensor.
  void fill(uint64_t first, llvm::MutableArrayRef<float> out) const;

private:
  TensorInit(uint64_t key, float scale, float value, bool random)
      : key(key), scale(scale), value(value), random(random) {}

  uint64_t key;
  /// Multiplies (sum of four uniforms - mean).
  float scale;
  float value;
  bool random;
};

} // namespace llamac

#endif // LLAMAC_COMPILER_SYNTH_RANDOMINIT_H
