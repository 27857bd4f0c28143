//===- PartitionPass.h - the kernels phase as a pass -------------*- C++ -*-===//
//
// llama-partition-kernels (PartitionPasses.td): partitionIntoKernels run as
// a pass over the model module, which it turns into the kernel module.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_PARTITION_PARTITIONPASS_H
#define LLAMAC_COMPILER_PARTITION_PARTITIONPASS_H

#include "compiler/partition/KernelPartition.h"

#include "mlir/Pass/Pass.h"

#include <memory>
#include <vector>

namespace llamac {

#define GEN_PASS_DECL
#include "compiler/partition/PartitionPasses.h.inc"

/// The partitioning the code generator of `target` (cpu, nvvm, rocdl)
/// expects, or nullopt for another target. `minParallelBytes` applies to
/// cpu only.
std::optional<PartitionOptions> getPartitionOptions(llvm::StringRef target,
                                                    int64_t minParallelBytes);

/// The pass, also handing the dispatch schedule of each entry point to
/// `schedules` (replaced on each run) when it is not null.
std::unique_ptr<mlir::Pass>
createLlamaPartitionKernels(const LlamaPartitionKernelsOptions &options,
                            std::vector<EntryPoint> *schedules);

#define GEN_PASS_REGISTRATION
#include "compiler/partition/PartitionPasses.h.inc"

} // namespace llamac

#endif // LLAMAC_COMPILER_PARTITION_PARTITIONPASS_H
