//===- WeightTable.h - the weights a compiled module uses -------*- C++ -*-===//
//
// The artifact's weights table comes from the compiled IR, not from the
// checkpoint: every `llama.weight` op of the final llama-level module names a
// tensor, and its result type says the element type the kernels read and
// (with the `layers` dimension put back for per-layer ops) the stored shape.
// A pass that changes how a weight is represented changes those ops; the
// writer follows. A tensor the IR never names is not written (with tied
// embeddings the classifier names `tok_embeddings`, so the table is stored
// once), and one named by several ops is written once.
//
// A tensor's bytes are the weight store's tensor of the same name and shape,
// converted to the IR's element type; or, for the tensors a
// `llama.dequantize` reads (values, scales, zeros), the quantized encoding of
// its `source` tensor, which compiler/quantize/ adds to the store before the
// artifact is written.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_ARTIFACT_WEIGHTTABLE_H
#define LLAMAC_COMPILER_ARTIFACT_WEIGHTTABLE_H

#include "compiler/import/DType.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llamac {

class WeightStore;

/// Which part of which quantized encoding of a weight-store tensor a
/// quantized tensor holds (from the `llama.dequantize` that reads it).
struct QuantizedFrom {
  enum class Kind { Int8, Int4 };
  enum class Part { Values, Scales, Zeros };
  /// The weight-store tensor the bytes are computed from.
  std::string source;
  Kind kind = Kind::Int8;
  /// Int4: columns per scale and zero.
  int64_t group = 0;
  /// Int4 values chosen by GPTQ instead of rounding to nearest.
  bool gptq = false;
  Part part = Part::Values;
};

/// How a tensor-parallel weight is split (from the op's `#llama.shard`):
/// each rank stores its part of the weight-store tensor.
struct WeightShard {
  /// The split dimension of the stored shape (the layers' dimension
  /// counted).
  int64_t axis = 0;
  /// Rows or columns that stay on one rank (a head's head_dim, or 1).
  int64_t block = 1;
  /// The weight-store tensor's shape; `WeightSpec::shape` is one rank's.
  std::vector<int64_t> fullShape;
};

/// One tensor of the artifact's weights table.
struct WeightSpec {
  /// The `llama.weight` symbol: the name dispatches bind it by, and the
  /// weight store tensor its bytes come from.
  std::string name;
  /// The element type the IR reads it as, which the artifact stores.
  DType dtype = DType::F32;
  /// The stored shape: the op's result shape, behind the number of layers
  /// for ops that take a `layer` operand.
  std::vector<int64_t> shape;
  /// Set for the tensors of a quantized weight.
  std::optional<QuantizedFrom> quantized;
  /// Set for a weight split over tensor-parallel ranks; `shape` is then
  /// one rank's part.
  std::optional<WeightShard> shard;
  /// The weight-store tensor the bytes come from when it is not `name` (the
  /// op's `source`: a tied classifier split over the ranks); empty otherwise.
  /// Where that tensor is in the table too, in this dtype, the writer lists
  /// each rank's part as a view of its rows instead of storing it again.
  std::string source;

  /// The weight-store tensor the bytes come from.
  const std::string &storeTensor() const { return source.empty() ? name : source; }
  uint64_t byteSize() const;
};

/// The weights `module` (a llama-level module carrying `llama.config`)
/// uses, in the weight store's order (a quantized tensor at its source's
/// place: values, scales, zeros). Fails, naming the weight, when two ops
/// disagree about a tensor's type, when an element type has no artifact
/// dtype, or when `store` lacks the tensor (a quantized one: its source) or
/// holds it in another shape.
llvm::Expected<std::vector<WeightSpec>>
collectWeightTable(mlir::ModuleOp module, const WeightStore &store);

} // namespace llamac

#endif // LLAMAC_COMPILER_ARTIFACT_WEIGHTTABLE_H
