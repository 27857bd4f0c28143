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
// Today the only transform from the checkpoint is a dtype conversion: each
// tensor's bytes are the weight store's tensor of the same name and shape,
// converted to the IR's element type.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_ARTIFACT_WEIGHTTABLE_H
#define LLAMAC_COMPILER_ARTIFACT_WEIGHTTABLE_H

#include "compiler/import/DType.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac {

class WeightStore;

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

  uint64_t byteSize() const;
};

/// The weights `module` (a llama-level module carrying `llama.config`)
/// uses, in the weight store's order. Fails, naming the weight, when two ops
/// disagree about a tensor's type, when an element type has no artifact
/// dtype, or when `store` lacks the tensor or holds it in another shape.
llvm::Expected<std::vector<WeightSpec>>
collectWeightTable(mlir::ModuleOp module, const WeightStore &store);

} // namespace llamac

#endif // LLAMAC_COMPILER_ARTIFACT_WEIGHTTABLE_H
