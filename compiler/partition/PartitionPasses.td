//===- PartitionPasses.td - the kernels phase as a pass ----*- tablegen -*-===//
//
// The partitioner (KernelPartition.h) as a pass, so that the kernels phase
// is a pass pipeline like every other phase (compiler/Pipelines.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PARTITION_PASSES_TD
#define LLAMAC_PARTITION_PASSES_TD

include "mlir/Pass/PassBase.td"

def LlamaPartitionKernels : Pass<"llama-partition-kernels", "::mlir::ModuleOp"> {
  let summary = "Split the entry points into kernel functions (the kernels phase)";
  let description = [{
    Replaces the model module's entry points by the module of kernel
    functions that the partitioner makes of them: one private `func.func`
    per llama op (its recomputed producers cloned in), tensors in and a
    destination tensor out, identical kernels emitted once. `target` picks
    the partitioning the code generator of that target expects: on `cpu`,
    projections of at least `min-parallel-bytes` of weights (1/16 of it in
    prefill), the halves of a mixture of experts whose picked experts' weights
    are that large (`experts_per_token / experts` of the stacked weights for
    one row, up to all of them for a chunk) and large attention take a
    `[begin, end)` range to split over threads, and prefill kernels a row
    count; on `nvvm` and `rocdl` no
    kernel is split (the grid covers the work) and decode attention gets a
    scratch buffer for split-key attention.

    The dispatch schedule (the order of the kernels and their bindings) is
    not IR: `llamac` takes it from this pass and writes it into the
    artifact; `llama-opt` drops it.
  }];
  let options = [
    Option<"target", "target", "std::string", "\"cpu\"", "cpu | nvvm | rocdl">,
    Option<"minParallelBytes", "min-parallel-bytes", "int64_t", "4 << 20",
           "cpu: the weight bytes from which a decode projection (or a mixture's half) "
           "is split over threads">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // LLAMAC_PARTITION_PASSES_TD
