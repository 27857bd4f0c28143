//===- ComputedWeights.h - tensors computed as the artifact is written -*- C++ -*-===//
//
// Most of an artifact's tensors are weight-store tensors converted on the
// way (WeightStore::stream). A quantized weight's values, scales and zeros
// are computed instead, from its source tensor, and computing one part
// computes the others: so the writer asks a group of such tensors for its
// slabs (blocks of a matrix's rows) one at a time and writes every
// tensor's bytes of the slab at once, each at its own place in the file.
// Only one slab of the group is ever in memory, never the quantized model
// (compiler/quantize/QuantizedWeights.h is the one group there is).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_ARTIFACT_COMPUTEDWEIGHTS_H
#define LLAMAC_COMPILER_ARTIFACT_COMPUTEDWEIGHTS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac {

/// Receives one tensor's bytes of the slab being computed.
using SlabSink =
    llvm::function_ref<llvm::Error(llvm::StringRef tensor, llvm::ArrayRef<uint8_t> bytes)>;

/// Tensors computed together, slab by slab. Each tensor's bytes are its
/// slabs' bytes laid end to end, in slab order.
class ComputedWeights {
public:
  virtual ~ComputedWeights() = default;

  /// The artifact tensors this group computes: weights-table names, or
  /// shardTensorName()s for each rank's part of a split one.
  virtual std::vector<std::string> tensorNames() const = 0;

  /// How many slabs computeSlab() takes.
  virtual int64_t slabs() const = 0;

  /// Computes slab `slab` and hands each tensor's bytes of it to `sink`
  /// (each tensor of tensorNames() at most once: a rank's part may have no
  /// bytes in a slab).
  virtual llvm::Error computeSlab(int64_t slab, SlabSink sink) = 0;
};

} // namespace llamac

#endif // LLAMAC_COMPILER_ARTIFACT_COMPUTEDWEIGHTS_H
