//===- PartialKernels.h - kernel bodies for part of an op --------*- C++ -*-===//
//
// The bodies of kernels that compute part of a llama op: the rows [0, rows)
// a prefill call fills (rows-limited kernels) and the output features or kv
// heads [begin, end) of one thread's share (ranged kernels). KernelPartition
// makes each kernel function and its arguments, then builds its body here.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_PARTITION_PARTIALKERNELS_H
#define LLAMAC_COMPILER_PARTITION_PARTIALKERNELS_H

#include "dialects/llama/LlamaOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace llamac {

/// Builds at `b`'s insertion point; `mapping` maps the op's operands to the
/// kernel's values. A null `rows` means every row, a null `begin`/`end` the
/// whole op.
class PartialKernelBuilder {
public:
  explicit PartialKernelBuilder(mlir::OpBuilder &b) : b(b) {}

  /// Remaps a projection's recomputed RMSNorm input to rows [0, rows).
  void normalizeOnlyRows(mlir::Operation *op, mlir::IRMapping &mapping, mlir::Value rows);
  /// Each result of `op` for rows [0, rows) and features [begin, end),
  /// inserted into `outs`.
  llvm::SmallVector<mlir::Value> buildPartialProjection(mlir::llama::ProjectionOpInterface op,
                                                        mlir::IRMapping &mapping,
                                                        llvm::ArrayRef<mlir::Value> outs,
                                                        mlir::Value rows, mlir::Value begin,
                                                        mlir::Value end);
  /// Attention for query rows [0, rows) and kv heads [begin, end), into `out`.
  mlir::Value buildPartialAttention(mlir::llama::AttentionOp op, mlir::IRMapping &mapping,
                                    mlir::Value out, mlir::Value rows, mlir::Value begin,
                                    mlir::Value end);
  /// The cache write of rows [0, rows).
  mlir::Value buildPartialKVWrite(mlir::llama::KVWriteOp op, mlir::IRMapping &mapping,
                                  mlir::Type cacheType, mlir::Value rows);
  /// A mixture's first half for rows [0, rows) and hidden units
  /// [begin, end), into `out`: a short chunk's padding is neither routed
  /// nor run through experts.
  mlir::Value buildPartialMoeSwiGLU(mlir::llama::MoeSwiGLUOp op, mlir::IRMapping &mapping,
                                    mlir::Value out, mlir::Value rows, mlir::Value begin,
                                    mlir::Value end);
  /// A mixture's second half for rows [0, rows) and output features
  /// [begin, end), into `out`.
  mlir::Value buildPartialMoeDown(mlir::llama::MoeDownOp op, mlir::IRMapping &mapping,
                                  mlir::Value out, mlir::Value rows, mlir::Value begin,
                                  mlir::Value end);
  /// Row `rows - 1` of the input, into `out`.
  mlir::Value buildLastFilledRow(mlir::llama::LastRowOp op, mlir::IRMapping &mapping,
                                 mlir::Value out, mlir::Value rows);

private:
  /// The part of a projection one call computes: input rows [0, rows) and
  /// output features [begin, end); a missing `rows` means all rows and a
  /// missing `begin` all output features.
  struct ProjectionPart {
    mlir::Value input;
    llvm::SmallVector<mlir::Value> weights;
    mlir::OpFoldResult rowSize, colBegin, colSize;
    mlir::RankedTensorType resultType;
  };

  mlir::OpFoldResult sizeOr(mlir::Value dynamic, int64_t size);
  mlir::Value slice(mlir::Location loc, mlir::Value value,
                    llvm::ArrayRef<mlir::OpFoldResult> offsets,
                    llvm::ArrayRef<mlir::OpFoldResult> sizes);
  ProjectionPart sliceProjection(mlir::Location loc, mlir::Value input,
                                 llvm::ArrayRef<mlir::Value> weights, mlir::Value out,
                                 mlir::Value rows, mlir::Value begin, mlir::Value end);
  mlir::Value sliceWeightRows(mlir::Location loc, mlir::Value weight, mlir::OpFoldResult begin,
                              mlir::OpFoldResult count, int64_t rowDim = 0);
  mlir::Value firstRows(mlir::Location loc, mlir::Value value, mlir::Value rows);
  llvm::SmallVector<mlir::Value> sliceExpertRows(mlir::Location loc, mlir::ValueRange stacked,
                                                 mlir::Value begin, mlir::Value end);
  mlir::Value insertProjection(mlir::Location loc, const ProjectionPart &part, mlir::Value computed,
                               mlir::Value out);
  mlir::Value sliceHeads(mlir::Location loc, mlir::Value value, mlir::OpFoldResult rowSize,
                         mlir::OpFoldResult headBegin, mlir::OpFoldResult headCount);

  mlir::OpBuilder &b;
};

} // namespace llamac

#endif // LLAMAC_COMPILER_PARTITION_PARTIALKERNELS_H
