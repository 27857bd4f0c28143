//===- GpuCodegen.cpp - kernels to a GPU code object (NVVM, ROCDL) --------===//

#include "compiler/targets/gpu/GpuCodegen.h"
#include "compiler/Pipelines.h"
#include "compiler/targets/gpu/GpuToolkit.h"
#include "passes/GpuTargetInfo.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>
#include <tuple>

using namespace mlir;

namespace llamac {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error runPipeline(ModuleOp module, llvm::StringRef what,
                        const std::function<void(OpPassManager &)> &build) {
  PassManager pm(module.getContext());
  build(pm);
  if (failed(pm.run(module)))
    return makeError("GPU code generation failed while " + what);
  return llvm::Error::success();
}

/// The launches llama-lower-to-gpu recorded on its kernels, grouped by the
/// kernel function they implement and put in launch order.
std::map<std::string, std::vector<std::pair<std::string, LaunchInfo>>>
collectLaunches(ModuleOp module) {
  std::map<std::string, std::vector<std::tuple<int64_t, std::string, LaunchInfo>>> steps;
  module.walk([&](gpu::GPUFuncOp kernel) {
    LaunchInfo dims;
    if (auto grid = kernel->getAttrOfType<DenseI64ArrayAttr>(llama::kGridAttrName))
      for (auto [i, v] : llvm::enumerate(grid.asArrayRef()))
        dims.grid[i] = v;
    if (std::optional<ArrayRef<int32_t>> block = kernel.getKnownBlockSize())
      for (auto [i, v] : llvm::enumerate(*block))
        dims.block[i] = v;
    auto function = kernel->getAttrOfType<StringAttr>(llama::kKernelAttrName);
    auto step = kernel->getAttrOfType<IntegerAttr>(llama::kStepAttrName);
    if (function && step)
      steps[function.str()].emplace_back(step.getInt(), kernel.getName().str(), dims);
  });
  std::map<std::string, std::vector<std::pair<std::string, LaunchInfo>>> launches;
  for (auto &[function, list] : steps) {
    llvm::sort(list, [](const auto &a, const auto &b) { return std::get<0>(a) < std::get<0>(b); });
    for (auto &[step, name, dims] : list)
      launches[function].emplace_back(name, dims);
  }
  return launches;
}

/// Serializes a clone of `module` (lowered to the LLVM dialect) in `format`
/// and returns the bytes of the one object.
llvm::Expected<std::string> serialize(ModuleOp module, llvm::StringRef format,
                                      llvm::StringRef toolkit) {
  OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone()));
  GpuBinaryPipelineOptions binary;
  binary.format = format.str();
  binary.toolkit = toolkit.str();
  if (llvm::Error err = runPipeline(*copy, ("serializing (" + format + ")").str(),
                                    [&](OpPassManager &pm) { buildGpuBinaryPipeline(pm, binary); }))
    return std::move(err);
  std::optional<std::string> bytes;
  copy->walk([&](gpu::BinaryOp binary) {
    if (auto object = dyn_cast<gpu::ObjectAttr>(binary.getObjects()[0]))
      bytes = object.getObject().getValue().str();
  });
  if (!bytes)
    return makeError("GPU code generation produced no code object");
  return *bytes;
}

} // namespace

llvm::Error checkGpuChip(llvm::StringRef target, llvm::StringRef chip) {
  // The chips LLVM 22 and this compiler's kernels produce code for: the
  // kernels use shfl.sync and 32-lane subgroups (NVVM, Turing on; CUDA 13's
  // ptxas has dropped sm_70 and sm_72) or 64-lane wavefronts with DPP
  // (ROCDL: GCN 5 and CDNA; RDNA's wave32 lacks what the reductions
  // select). Any other name failed inside LLVM or ptxas, with several lines.
  static constexpr llvm::StringLiteral kNvvm[] = {
      "sm_75",  "sm_80",   "sm_86",  "sm_87",   "sm_89",  "sm_90",   "sm_90a", "sm_100",
      "sm_100a", "sm_103", "sm_103a", "sm_120", "sm_120a", "sm_121", "sm_121a"};
  static constexpr llvm::StringLiteral kRocdl[] = {"gfx906", "gfx908", "gfx90a", "gfx942",
                                                   "gfx950"};
  llvm::ArrayRef<llvm::StringLiteral> chips = target == "nvvm"    ? llvm::ArrayRef(kNvvm)
                                              : target == "rocdl" ? llvm::ArrayRef(kRocdl)
                                                                  : llvm::ArrayRef<llvm::StringLiteral>();
  if (llvm::is_contained(chips, chip))
    return llvm::Error::success();
  std::string known;
  for (llvm::StringRef name : chips)
    known += (known.empty() ? "" : ", ") + name.str();
  return makeError("--chip " + chip + " is not a " + target + " chip llamac compiles for (" +
                   known + ")");
}

bool hasBf16MatrixUnits(llvm::StringRef target, llvm::StringRef chip) {
  if (target == "nvvm") {
    // mma.sync with bf16 operands: sm_80 (Ampere) and later.
    unsigned version = 0;
    return !chip.drop_front(3).take_while(llvm::isDigit).getAsInteger(10, version) &&
           version >= 80;
  }
  // The bf16 "_1k" MFMA: CDNA2 (gfx90a) and CDNA3 (gfx94x, gfx950).
  return chip == "gfx90a" || chip.starts_with("gfx94") || chip == "gfx950";
}

llvm::Expected<GpuCodeObject> compileGpuKernels(ModuleOp kernels,
                                               const GpuCodegenOptions &options) {
  if (!llama::getGpuTargetInfo(options.target))
    return makeError("unknown GPU target '" + options.target + "' (nvvm | rocdl)");
  if (llvm::Error err = checkGpuChip(options.target, options.chip))
    return std::move(err);
  if (options.bf16MatrixUnits && !hasBf16MatrixUnits(options.target, options.chip))
    return makeError("--bf16-dot=on needs a chip with bf16 matrix units (sm_80 and later, "
                     "gfx90a, gfx94x); '" + options.chip + "' has none");
  // Find the toolkit first: a missing one should fail before any work.
  std::string toolkit;
  std::optional<RocmToolkitDir> rocm;
  if (options.target == "nvvm") {
    llvm::Expected<std::string> cuda = findCudaToolkit(options.toolkit);
    if (!cuda)
      return cuda.takeError();
    toolkit = *cuda;
  } else {
    llvm::Expected<RocmToolkitDir> dir = RocmToolkitDir::create();
    if (!dir)
      return dir.takeError();
    rocm.emplace(std::move(*dir));
    toolkit = rocm->path();
  }

  GpuPipelineOptions gpuOptions;
  gpuOptions.target = options.target;
  gpuOptions.bf16MatrixUnits = options.bf16MatrixUnits;
  gpuOptions.gemvSplitK = options.gemvSplitK;
  if (llvm::Error err = runPipeline(kernels, "building the kernels", [&](OpPassManager &pm) {
        buildGpuPipeline(pm, gpuOptions);
      }))
    return std::move(err);
  GpuCodeObject object;
  object.launches = collectLaunches(kernels);
  if (options.afterPhase)
    options.afterPhase("gpu", kernels);

  GpuLlvmPipelineOptions llvmOptions;
  llvmOptions.target = options.target;
  llvmOptions.chip = options.chip;
  if (llvm::Error err = runPipeline(kernels, "lowering to " + options.target,
                                    [&](OpPassManager &pm) {
                                      buildGpuLlvmPipeline(pm, llvmOptions);
                                    }))
    return std::move(err);
  if (options.afterPhase)
    options.afterPhase("gpu-llvm", kernels);

  llvm::Expected<std::string> binary = serialize(kernels, "bin", toolkit);
  if (!binary)
    return binary.takeError();
  object.binary = std::move(*binary);
  if (options.target == "nvvm") {
    object.format = "cubin";
    llvm::Expected<std::string> ptx = serialize(kernels, "isa", toolkit);
    if (!ptx)
      return ptx.takeError();
    object.ptx = std::move(*ptx);
  } else {
    object.format = "hsaco";
  }
  return object;
}

} // namespace llamac
