//===- LinalgBuilders.h - helpers shared by the lowering passes -*- C++ -*-===//
//
// Small builders used by more than one llama -> linalg lowering: element type
// conversion to the f32 compute type and tensor.empty / zero-filled inits
// shaped like an existing value.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_LINALGBUILDERS_H
#define LLAMAC_PASSES_LINALGBUILDERS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir::llama {

/// Extends a bf16/f16 scalar to f32; returns f32 values unchanged.
Value extendToF32(OpBuilder &b, Location loc, Value v);

/// Truncates an f32 scalar to `type`; returns it unchanged when `type` is f32.
Value truncateFromF32(OpBuilder &b, Location loc, Value v, Type type);

/// A tensor.empty with `elementType` and the sizes of `like` restricted to
/// `dims` (all of them when `dims` is empty).
Value emptyLike(OpBuilder &b, Location loc, Value like, Type elementType,
                ArrayRef<int64_t> dims = {});

/// A zero-filled tensor with `elementType` and the given dims of `like`.
Value zerosLike(OpBuilder &b, Location loc, Value like, Type elementType,
                ArrayRef<int64_t> dims = {});

/// An f32 constant.
Value f32Constant(OpBuilder &b, Location loc, double value);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_LINALGBUILDERS_H
