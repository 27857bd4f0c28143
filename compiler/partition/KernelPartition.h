//===- KernelPartition.h - split entry points into kernels -------*- C++ -*-===//
//
// Turns each entry-point function of the model module into one kernel
// function per llama op (tensors in, destination tensor out) plus the dispatch
// schedule that calls them in order. Reshapes cost nothing (they alias), the
// cache writes update the cache in place, and the layer loop's body is
// partitioned once and replayed per layer by the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_PARTITION_KERNELPARTITION_H
#define LLAMAC_COMPILER_PARTITION_KERNELPARTITION_H

#include "compiler/partition/DispatchSchedule.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace llamac {

struct PartitionedModel {
  /// One private func.func per distinct kernel, still in the llama dialect.
  mlir::OwningOpRef<mlir::ModuleOp> kernels;
  std::vector<EntryPoint> entryPoints;
};

struct PartitionOptions {
  /// A decode projection is split over threads only when its weights are at
  /// least this many bytes: waking a sleeping worker costs tens of
  /// microseconds, more than a small GEMV takes on one core. Prefill
  /// projections split at 1/16 of it, attention at 1/4 of its cache bytes.
  int64_t minParallelBytes = 4 << 20;
  /// Prefill kernels take the `rows` scalar and compute only the rows a call
  /// fills. GPU kernels run every row of their static grid instead (the
  /// padding rows cost idle lanes, not time), so their targets turn this off.
  bool limitRows = true;
  /// > 1: decode attention (one token) gets a scratch buffer of
  /// [tokens, heads, splits, head_dim + 2] floats as its last binding, for
  /// GPU kernels that split the keys over this many blocks (flash-decoding)
  /// and combine the partial softmaxes in a second launch.
  int64_t attentionSplits = 0;
};

/// Partitions every function of `model` (as built by buildModelModule).
mlir::FailureOr<PartitionedModel>
partitionIntoKernels(mlir::ModuleOp model, const PartitionOptions &options = {});

} // namespace llamac

#endif // LLAMAC_COMPILER_PARTITION_KERNELPARTITION_H
