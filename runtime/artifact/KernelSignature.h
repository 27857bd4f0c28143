//===- KernelSignature.h - the arguments a compiled kernel takes -*- C++ -*-===//
//
// What the metadata's dispatches are checked against before anything runs:
// the partitioner derives each kernel's signature from the kernel
// function's own argument types, and the CPU code generator stores it in
// the kernel library as the string `<kernel>_signature` beside
// `<kernel>_packed`. Text form, comma-separated, one entry per argument of
// the packed call:
//
//   p<bytes>   a pointer to exactly <bytes> bytes (buffer, weight or tokens)
//   c<bytes>   one layer's slice of the K or V cache, <bytes> per position
//   pos | layer | rows   an int64 scalar
//   range      the begin, end pair of a kernel split over threads
//
// e.g. "p256,p16384,p1024,range" for a projection of a [1, 64] activation
// by a [256, 64] f32 weight into [1, 256].
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_KERNELSIGNATURE_H
#define LLAMAC_RUNTIME_ARTIFACT_KERNELSIGNATURE_H

#include "runtime/artifact/ArtifactSchema.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llamac::runtime {

struct KernelArg {
  enum class Kind { Pointer, Cache, Scalar, Range };
  Kind kind = Kind::Pointer;
  /// Pointer: bytes it points to; Cache: bytes per position.
  uint64_t bytes = 0;
  /// Kind::Scalar.
  Scalar scalar = Scalar::Pos;

  bool operator==(const KernelArg &o) const {
    return kind == o.kind && bytes == o.bytes &&
           (kind != Kind::Scalar || scalar == o.scalar);
  }
};

using KernelSignature = std::vector<KernelArg>;

std::string formatKernelSignature(const KernelSignature &signature);
/// nullopt when `text` is not formatKernelSignature's spelling.
std::optional<KernelSignature> parseKernelSignature(std::string_view text);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_KERNELSIGNATURE_H
