//===- ModelLimits.h - the plausibility limits of a model --------*- C++ -*-===//
//
// One definition of what a model description may say, shared by the
// compiler (which refuses a checkpoint outside them, so it never writes an
// artifact the runtime would refuse) and the runtime's artifact reader.
// They bound values read from files, so that the size arithmetic done with
// them stays far from overflow and a hostile file gets a clear error
// instead of a huge allocation. docs/reliability.md lists them.
// Plain C++: the runtime links neither LLVM nor MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_MODELLIMITS_H
#define LLAMAC_RUNTIME_ARTIFACT_MODELLIMITS_H

#include <cstdint>

namespace llamac::limits {

/// Every size of a model (dim, hidden_dim, layers, heads, kv_heads,
/// head_dim, vocab, max_seq_len) is below this: the GPU drivers' launch
/// fields are 32-bit, and a product of two such sizes cannot overflow.
inline constexpr int64_t kModelSizeLimit = int64_t(1) << 31;

/// Largest rope_theta: published models use 1e4 to 1e8; far above, every
/// position rotates by less than float rounding, and from 3.4e38 on the
/// value is not even a float.
inline constexpr double kMaxRopeTheta = 1e12;

/// Largest rms_norm_eps: it is added to a mean of squares; published models
/// use 1e-6 to 1e-5.
inline constexpr double kMaxNormEps = 1.0;

/// Largest llama3 rope_scaling factor (published: 8 and 32).
inline constexpr double kMaxRopeScalingFactor = 1e6;

} // namespace llamac::limits

#endif // LLAMAC_RUNTIME_ARTIFACT_MODELLIMITS_H
