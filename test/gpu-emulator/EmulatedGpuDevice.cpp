//===- EmulatedGpuDevice.cpp - a HAL device that interprets GPU kernels ---===//

#include "test/gpu-emulator/EmulatedGpuDevice.h"
#include "test/gpu-emulator/SimtInterpreter.h"

#include "dialects/llama/LlamaDialect.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"

#include "absl/strings/str_cat.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <vector>

using namespace mlir;

namespace llamac::emu {

namespace {

/// The gpu.module llama-lower-to-gpu writes the kernels into.
constexpr llvm::StringLiteral kKernelModule = "llamac_kernels";

/// Anonymous mappings, as on the CPU driver (zero-filled, page-aligned,
/// untouched pages cost nothing), but not host-visible to the runtime:
/// hostData() is null, so it copies through the device as on a GPU.
class EmulatedBuffer : public hal::Buffer {
public:
  EmulatedBuffer(void *base, uint64_t bytes, uint64_t mapped)
      : base(base), bytes(bytes), mapped(mapped) {}
  ~EmulatedBuffer() override { munmap(base, mapped); }
  void *data() override { return base; }
  uint64_t size() const override { return bytes; }
  void *hostData() override { return nullptr; }

private:
  void *base;
  uint64_t bytes;
  uint64_t mapped;
};

/// The parsed kernels' IR; a handle's deviceFunction is a gpu.func's
/// Operation*, valid while this lives.
class EmulatedExecutable : public hal::Executable {
public:
  EmulatedExecutable(OwningOpRef<ModuleOp> module,
                     llvm::StringMap<Operation *> kernels, std::string name,
                     std::string irPath)
      : module(std::move(module)), kernels(std::move(kernels)),
        name(std::move(name)), irPath(std::move(irPath)) {}

  absl::StatusOr<hal::KernelHandle>
  lookup(absl::string_view kernel) const override {
    auto it = kernels.find(llvm::StringRef(kernel.data(), kernel.size()));
    if (it == kernels.end())
      return absl::NotFoundError(
          absl::StrCat(name, ": the kernels' IR (", irPath, ") has no kernel '",
                       kernel, "' (used by the schedule)"));
    hal::KernelHandle handle;
    handle.deviceFunction = it->second;
    return handle;
  }

private:
  OwningOpRef<ModuleOp> module;
  llvm::StringMap<Operation *> kernels;
  std::string name;
  std::string irPath;
};

absl::Status withContext(const absl::Status &s, absl::string_view context) {
  if (s.ok())
    return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

} // namespace

EmulatedGpuDevice::EmulatedGpuDevice(std::string target,
                                     std::string kernelsIrPath)
    : target(std::move(target)), kernelsIrPath(std::move(kernelsIrPath)) {
  // Every dialect of the "gpu" phase's output: the kernels' ops, and the
  // llama.config attribute on the enclosing module.
  DialectRegistry registry;
  registry
      .insert<amdgpu::AMDGPUDialect, arith::ArithDialect, func::FuncDialect,
              gpu::GPUDialect, LLVM::LLVMDialect, math::MathDialect,
              memref::MemRefDialect, NVVM::NVVMDialect, ROCDL::ROCDLDialect,
              scf::SCFDialect, vector::VectorDialect, llama::LlamaDialect>();
  context =
      std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
}

EmulatedGpuDevice::~EmulatedGpuDevice() = default;

absl::StatusOr<std::unique_ptr<hal::Buffer>>
EmulatedGpuDevice::allocate(uint64_t bytes) {
  // A zero-sized buffer still gets a valid, distinct address.
  const uint64_t mapped = bytes == 0 ? 64 : bytes;
  void *base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED)
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes, " bytes of ", name(),
                     " memory: ", std::strerror(errno)));
  return std::unique_ptr<hal::Buffer>(new EmulatedBuffer(base, bytes, mapped));
}

absl::StatusOr<std::unique_ptr<hal::Buffer>>
EmulatedGpuDevice::importConstant(const void *host, uint64_t bytes) {
  absl::StatusOr<std::unique_ptr<hal::Buffer>> buffer = allocate(bytes);
  if (!buffer.ok())
    return buffer.status();
  if (absl::Status s = copyToDevice(**buffer, 0, host, bytes); !s.ok())
    return s;
  return buffer;
}

absl::Status EmulatedGpuDevice::copyToDevice(hal::Buffer &dst, uint64_t offset,
                                             const void *src, uint64_t bytes) {
  if (absl::Status s = hal::checkCopyRange(dst.size(), offset, bytes); !s.ok())
    return s;
  if (bytes > 0)
    std::memcpy(static_cast<char *>(dst.data()) + offset, src, bytes);
  return absl::OkStatus();
}

absl::Status EmulatedGpuDevice::copyToHost(void *dst, hal::Buffer &src,
                                           uint64_t offset, uint64_t bytes) {
  if (absl::Status s = hal::checkCopyRange(src.size(), offset, bytes); !s.ok())
    return s;
  if (bytes > 0)
    std::memcpy(dst, static_cast<const char *>(src.data()) + offset, bytes);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<hal::Executable>>
EmulatedGpuDevice::loadExecutable(const hal::ExecutableSource &source) {
  if (target != "nvvm" && target != "rocdl")
    return absl::InvalidArgumentError(absl::StrCat(
        "the emulated GPU device's target is 'nvvm' or 'rocdl', not '", target,
        "'"));
  const std::string format = target == "nvvm" ? "cubin" : "hsaco";
  if (source.format != format)
    return absl::InvalidArgumentError(absl::StrCat(
        source.name, ": the ", name(), " device cannot load kernels in '",
        source.format, "' format (it needs ", format, ")"));

  std::string diagnostics;
  ScopedDiagnosticHandler handler(context.get(), [&](Diagnostic &d) {
    if (d.getSeverity() != DiagnosticSeverity::Error)
      return success();
    llvm::raw_string_ostream os(diagnostics);
    os << (diagnostics.empty() ? "" : "; ") << d.getLocation() << ": " << d;
    return success();
  });
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(kernelsIrPath, context.get());
  if (!module)
    return absl::InvalidArgumentError(absl::StrCat(
        source.name, ": cannot parse the kernels' IR ", kernelsIrPath, ": ",
        diagnostics.empty() ? "no such file?" : diagnostics));
  auto kernelModule = module->lookupSymbol<gpu::GPUModuleOp>(kKernelModule);
  if (!kernelModule)
    return absl::InvalidArgumentError(absl::StrCat(
        source.name, ": ", kernelsIrPath, " has no gpu.module @",
        kKernelModule.str(), " (is it the output of --dump-ir-after gpu?)"));
  llvm::StringMap<Operation *> kernels;
  for (gpu::GPUFuncOp fn : kernelModule.getOps<gpu::GPUFuncOp>())
    if (fn.isKernel())
      kernels[fn.getName()] = fn.getOperation();
  return std::unique_ptr<hal::Executable>(new EmulatedExecutable(
      std::move(module), std::move(kernels), source.name, kernelsIrPath));
}

absl::Status EmulatedGpuDevice::launch(const hal::BoundDispatch &d,
                                       int64_t layer) {
  // The parameters exactly as a GPU driver passes them: addresses, the layer
  // by value, pos and rows by the address of their int64 in {pos, rows}.
  uint64_t slots[hal::kMaxKernelArgs];
  if (absl::Status s = hal::gpuLaunchArgs(
          d, layer, reinterpret_cast<uint64_t>(&posRows[0]), name(), slots);
      !s.ok())
    return s;
  const size_t n = d.args.size();
  auto kernel =
      llvm::cast<gpu::GPUFuncOp>(static_cast<Operation *>(d.deviceFunction));
  const size_t params = kernel.getFunctionType().getNumInputs();
  if (params != n)
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", d.kernel, " takes ", params,
                     " parameters; the schedule binds ", n));
  std::vector<KernelArg> args(n);
  for (size_t i = 0; i < n; ++i) {
    args[i].pointer = reinterpret_cast<void *>(slots[i]);
    args[i].value = static_cast<int64_t>(slots[i]);
  }
  const std::array<uint32_t, 3> grid = {d.launch.grid[0], d.launch.grid[1],
                                        d.launch.grid[2]};
  const std::array<uint32_t, 3> block = {d.launch.block[0], d.launch.block[1],
                                         d.launch.block[2]};
  return withContext(runKernel(kernel, grid, block, args, subgroupSize()),
                     absl::StrCat("kernel ", d.kernel, " (layer ", layer, ")"));
}

absl::Status EmulatedGpuDevice::run(const hal::Program &program,
                                    const hal::Invocation &invocation) {
  posRows[0] = invocation.pos;
  posRows[1] = invocation.rows;
  return hal::forEachDispatch(
      program, [&](const hal::BoundDispatch &d, int64_t layer) {
        return launch(d, layer);
      });
}

} // namespace llamac::emu
