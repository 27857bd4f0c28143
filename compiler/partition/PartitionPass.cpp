//===- PartitionPass.cpp - the kernels phase as a pass --------------------===//

#include "compiler/partition/PartitionPass.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

#include <limits>

namespace llamac {
#define GEN_PASS_DEF_LLAMAPARTITIONKERNELS
#include "compiler/partition/PartitionPasses.h.inc"
} // namespace llamac

using namespace mlir;

namespace llamac {

/// Blocks per head that share a decode step's attention on a GPU, so that
/// batch 1 occupies every SM (32 heads x 16 = 512 blocks for Llama-2-7B).
constexpr int64_t kGpuAttentionSplits = 16;

std::optional<PartitionOptions> getPartitionOptions(llvm::StringRef target,
                                                    int64_t minParallelBytes) {
  PartitionOptions options;
  if (target == "cpu") {
    options.minParallelBytes = minParallelBytes;
    return options;
  }
  if (target != "nvvm" && target != "rocdl")
    return std::nullopt;
  // The grid covers all the work: no thread ranges, no row limits.
  options.minParallelBytes = std::numeric_limits<int64_t>::max();
  options.limitRows = false;
  options.attentionSplits = kGpuAttentionSplits;
  return options;
}

namespace {

struct PartitionKernelsPass : impl::LlamaPartitionKernelsBase<PartitionKernelsPass> {
  using LlamaPartitionKernelsBase::LlamaPartitionKernelsBase;
  PartitionKernelsPass(const LlamaPartitionKernelsOptions &options,
                       std::vector<EntryPoint> *schedules)
      : LlamaPartitionKernelsBase(options), schedules(schedules) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<PartitionOptions> options = getPartitionOptions(target, minParallelBytes);
    if (!options) {
      module.emitError() << "unknown target '" << target << "' (cpu | nvvm | rocdl)";
      return signalPassFailure();
    }
    FailureOr<PartitionedModel> partitioned = partitionIntoKernels(module, *options);
    if (failed(partitioned))
      return signalPassFailure();
    // The kernel module takes the model's place: its functions and its
    // attributes (the model's llama.config, copied by the partitioner).
    Block *body = module.getBody();
    for (Operation &op : llvm::make_early_inc_range(*body))
      op.erase();
    body->getOperations().splice(body->end(), partitioned->kernels->getBody()->getOperations());
    module->setAttrs((*partitioned->kernels)->getAttrDictionary());
    if (schedules)
      *schedules = std::move(partitioned->entryPoints);
  }

  std::vector<EntryPoint> *schedules = nullptr;
};

} // namespace

std::unique_ptr<Pass> createLlamaPartitionKernels(const LlamaPartitionKernelsOptions &options,
                                                  std::vector<EntryPoint> *schedules) {
  return std::make_unique<PartitionKernelsPass>(options, schedules);
}

} // namespace llamac
