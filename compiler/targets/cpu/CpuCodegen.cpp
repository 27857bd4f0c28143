//===- CpuCodegen.cpp - kernels to a shared object for the host CPU -------===//

#include "compiler/targets/cpu/CpuCodegen.h"
#include "compiler/Pipelines.h"
#include "dialects/llama/LlamaAttrs.h"
#include "runtime/artifact/ArtifactFormat.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/ExecutionEngine/OptUtils.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <map>

using namespace mlir;

namespace llamac {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// LLVM's x86 feature names and the names /proc/cpuinfo uses for them, for
/// the features that change generated code.
struct FeatureName {
  const char *llvm;
  const char *cpuinfo;
};
constexpr FeatureName kX86Features[] = {
    {"sse4.1", "sse4_1"},         {"sse4.2", "sse4_2"},
    {"avx", "avx"},               {"avx2", "avx2"},
    {"fma", "fma"},               {"f16c", "f16c"},
    {"bmi", "bmi1"},              {"bmi2", "bmi2"},
    {"avx512f", "avx512f"},       {"avx512bw", "avx512bw"},
    {"avx512dq", "avx512dq"},     {"avx512vl", "avx512vl"},
    {"avx512cd", "avx512cd"},     {"avx512vnni", "avx512_vnni"},
    {"avx512bf16", "avx512_bf16"}, {"avx512fp16", "avx512_fp16"},
    {"amx-tile", "amx_tile"},     {"amx-bf16", "amx_bf16"},
    {"amx-int8", "amx_int8"},
};

/// Adds `void <fn>_packed(void **args)` for each kernel: args[i] points to
/// the i-th argument. One signature lets the runtime call every kernel.
/// Beside it, the string `<fn>_signature` says what those arguments are
/// (`signatures`, from the partitioner), so that the runtime can check the
/// metadata's dispatches against the code before it calls anything.
void addPackedWrappers(llvm::Module &module,
                       const std::map<std::string, std::string> &signatures) {
  llvm::LLVMContext &ctx = module.getContext();
  // Says that every kernel below has its signature.
  new llvm::GlobalVariable(module, llvm::Type::getInt8Ty(ctx), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantInt::get(llvm::Type::getInt8Ty(ctx), 1),
                           artifact::kSignaturesMarker);
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *wrapperTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false);
  std::vector<llvm::Function *> kernels;
  for (llvm::Function &fn : module)
    if (!fn.isDeclaration() && fn.getName().starts_with("k"))
      kernels.push_back(&fn);
  for (llvm::Function *fn : kernels) {
    fn->setLinkage(llvm::GlobalValue::InternalLinkage);
    auto *wrapper = llvm::Function::Create(
        wrapperTy, llvm::GlobalValue::ExternalLinkage,
        fn->getName() + artifact::kPackedSuffix, module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
    llvm::SmallVector<llvm::Value *> args;
    for (auto [i, param] : llvm::enumerate(fn->args())) {
      llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, wrapper->getArg(0), i);
      llvm::Value *argPtr = b.CreateLoad(ptrTy, slot);
      args.push_back(b.CreateLoad(param.getType(), argPtr));
    }
    b.CreateCall(fn, args);
    b.CreateRetVoid();
    // An AMX variant takes its kernel's arguments.
    llvm::StringRef base = fn->getName();
    base.consume_back(llvm::StringRef(artifact::kAmxVariantSuffix));
    auto signature = signatures.find(fn->getName().str());
    if (signature == signatures.end())
      signature = signatures.find(base.str());
    if (signature != signatures.end()) {
      llvm::Constant *text = llvm::ConstantDataArray::getString(ctx, signature->second);
      new llvm::GlobalVariable(module, text->getType(), /*isConstant=*/true,
                               llvm::GlobalValue::ExternalLinkage, text,
                               fn->getName() + artifact::kSignatureSuffix);
    }
  }
}

/// The features only Intel's matrix generations have. An artifact with AMX
/// variants leaves them out of its other kernels, so that it runs (on those
/// kernels) on any AVX-512 BF16 CPU, an AMD EPYC included.
constexpr const char *kMatrixOnlyFeatures = "-amx-tile,-amx-bf16,-amx-int8,-avx512fp16";
constexpr const char *kAmxFeatures = "+amx-tile,+amx-bf16,+amx-int8";
/// An artifact without AMX variants has no tile instruction: its kernels do
/// not need the chip's AMX, so its cpu_features must not ask for it (a
/// `--chip sapphirerapids --amx=off` artifact was refused on AVX-512 CPUs).
constexpr const char *kNoAmxFeatures = "-amx-tile,-amx-bf16,-amx-int8";
/// compiler-rt's builtins (Debian's libclang-rt-22-dev), linked into the
/// kernel library of a chip without bf16 conversions.
constexpr const char *kCompilerRtBuiltins =
    "/usr/lib/llvm-22/lib/clang/22/lib/linux/libclang_rt.builtins-x86_64.a";

/// Gives the AMX variants (`<kernel>_amx`) the chip's AMX features, which
/// the rest of the library is compiled without.
void enableAmxInVariants(llvm::Module &module, llvm::StringRef baseFeatures) {
  std::string features = baseFeatures.empty() ? std::string(kAmxFeatures)
                                              : (baseFeatures + "," + kAmxFeatures).str();
  for (llvm::Function &fn : module)
    if (!fn.isDeclaration() && fn.getName().ends_with(artifact::kAmxVariantSuffix))
      fn.addFnAttr("target-features", features);
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const std::string &chip, llvm::StringRef extraFeatures = "") {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError("no LLVM target for " + triple.str() + ": " + error);
  std::string cpu = chip == "native" ? llvm::sys::getHostCPUName().str() : chip;
  std::string features;
  if (chip == "native") {
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  }
  if (!extraFeatures.empty())
    features += extraFeatures.str();
  std::unique_ptr<llvm::MCSubtargetInfo> probe(target->createMCSubtargetInfo(triple, "", ""));
  if (!probe || !probe->isCPUStringValid(cpu))
    return makeError("unknown --chip '" + chip + "' for " + triple.str());
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_));
  if (!tm)
    return makeError("could not create a target machine for " + cpu);
  return tm;
}

/// Creates a new, empty `$TMPDIR/llamac-kernels-<8 random>.<suffix>` (owner-only)
/// and leaves its name in `path`, registered with LLVM's signal handlers
/// *before* the file exists: a Ctrl-C, SIGTERM or SIGBUS between creating
/// and registering it (createTemporaryFile, then RemoveFileOnSignal) would
/// leave it behind, and a loaded machine does get descheduled there.
std::error_code createRegisteredTemporary(llvm::StringRef suffix,
                                          llvm::SmallString<128> &path) {
  llvm::SmallString<128> model;
  llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, model);
  llvm::sys::path::append(model, "llamac-kernels-%%%%%%%%." + suffix);
  for (int attempt = 0;; ++attempt) {
    llvm::sys::fs::createUniquePath(model, path, /*MakeAbsolute=*/false);
    llvm::sys::RemoveFileOnSignal(path);
    int fd = -1;
    std::error_code ec = llvm::sys::fs::openFileForWrite(path, fd, llvm::sys::fs::CD_CreateNew,
                                                         llvm::sys::fs::OF_None, 0600);
    if (!ec) {
      llvm::sys::Process::SafelyCloseFileDescriptor(fd);
      return {};
    }
    // Not ours: a name another file already has must not be removed.
    llvm::sys::DontRemoveFileOnSignal(path);
    if (ec != std::errc::file_exists || attempt == 128)
      return ec;
  }
}

} // namespace

std::vector<std::string> amxChipFeatures(bool intWeights) {
  return {"amx-tile", intWeights ? "amx-int8" : "amx-bf16"};
}

/// The AMX features (cpuinfo names) the tile instructions of `module` need.
static std::vector<std::string> amxFeaturesUsed(const llvm::Module &module) {
  bool bf16 = false, int8 = false;
  for (const llvm::Function &fn : module) {
    llvm::StringRef name = fn.getName();
    bf16 |= name.starts_with("llvm.x86.tdpbf16ps");
    int8 |= name.starts_with("llvm.x86.tdpb") && !name.starts_with("llvm.x86.tdpbf16ps");
  }
  std::vector<std::string> features{"amx_tile"};
  if (bf16)
    features.push_back("amx_bf16");
  if (int8)
    features.push_back("amx_int8");
  return features;
}

/// Intel chips with AVX-512 BF16, whose vdpbf16ps has half the FMAs'
/// multiply-add rate.
static bool isSlowBf16DotChip(llvm::StringRef cpu) {
  return llvm::StringSwitch<bool>(cpu)
      .Cases({"cooperlake", "sapphirerapids", "emeraldrapids", "graniterapids",
              "graniterapids-d", "diamondrapids"},
             true)
      .Default(false);
}

llvm::Expected<CpuKernelLibrary> compileCpuKernels(ModuleOp kernels,
                                                  const CpuCodegenOptions &options) {
  auto tm = createTargetMachine(options.chip);
  if (!tm)
    return tm.takeError();
  bool chipHasBf16Dot = (*tm)->getMCSubtargetInfo()->checkFeatures("+avx512bf16");
  if (options.bf16Dot == Bf16Dot::On && !chipHasBf16Dot)
    return makeError("--bf16-dot=on needs a chip with AVX-512 BF16 (avx512bf16); '" +
                     (*tm)->getTargetCPU() + "' has none");
  bool bf16Dot = options.bf16Dot == Bf16Dot::On ||
                 (options.bf16Dot == Bf16Dot::Auto && chipHasBf16Dot);
  // Intel's vdpbf16ps issues once every 2 cycles (measured on an Emerald
  // Rapids Xeon: 0.5 per cycle, FMAs 2), half the multiply-add rate of
  // f32 FMAs; there decode and verify take FMA pairs with its numerics
  // (llama-vectorize-linear's bf16-dot-fma). AMD's Zen 4/5 keep it (on
  // Zen 5 it issues as fast as an FMA: docs/cpu-target.md).
  bool bf16DotFma = bf16Dot && isSlowBf16DotChip((*tm)->getTargetCPU());
  bool chipHasIntDot = (*tm)->getMCSubtargetInfo()->checkFeatures("+avx512vnni,+avx512bw");
  if (options.intDot == IntDot::On && !chipHasIntDot)
    return makeError("--int-dot=on needs a chip with AVX-512 VNNI (avx512vnni, avx512bw); '" +
                     (*tm)->getTargetCPU() + "' has none");
  bool intDot = options.intDot == IntDot::On ||
                (options.intDot == IntDot::Auto && chipHasIntDot);
  // bf16 AMX tiles round the activations to bf16 as vdpbf16ps does, so the
  // variants and the kernels they replace agree on the numerics; int8 tiles
  // quantize them to bytes per token whatever the other kernels do.
  std::vector<std::string> amxNeeds = amxChipFeatures(options.intWeights);
  std::string amxNeedsList, amxNeedsNames;
  for (const std::string &f : amxNeeds) {
    amxNeedsList += (amxNeedsList.empty() ? "+" : ",+") + f;
    amxNeedsNames += (amxNeedsNames.empty() ? "" : ", ") + f;
  }
  bool chipHasAmx = (*tm)->getMCSubtargetInfo()->checkFeatures(amxNeedsList);
  if (options.amx == Amx::On && !chipHasAmx)
    return makeError("--amx=on needs a chip with AMX (" + amxNeedsNames + "); '" +
                     (*tm)->getTargetCPU() + "' has " +
                     ((*tm)->getMCSubtargetInfo()->checkFeatures("+amx-tile") ? "not all of them"
                                                                              : "none"));
  bool amxNumerics = bf16Dot || options.intWeights;
  // --amx=emulate checks the tiles on any CPU: on one without AVX-512 BF16
  // (an AVX2-only EPYC) every other kernel takes vdpbf16ps's numerics as
  // FMA pairs, plain f32 vector code, so that the artifact rounds its
  // activations as the tiles do and runs where it was compiled.
  if (options.amx == Amx::Emulate && !amxNumerics && options.bf16Dot == Bf16Dot::Auto) {
    bf16Dot = true;
    bf16DotFma = true;
    amxNumerics = true;
  }
  if ((options.amx == Amx::On || options.amx == Amx::Emulate) && !amxNumerics)
    return makeError("--amx=" + std::string(options.amx == Amx::On ? "on" : "emulate") +
                     " rounds activations to bf16 like --bf16-dot: it needs --bf16-dot on "
                     "a chip with AVX-512 BF16");
  std::string amx = options.amx == Amx::Emulate ? "emulate"
                    : (options.amx == Amx::On ||
                       (options.amx == Amx::Auto && chipHasAmx && amxNumerics))
                        ? "variants"
                        : "off";
  tm = createTargetMachine(options.chip,
                           amx == "variants" ? kMatrixOnlyFeatures : kNoAmxFeatures);
  if (!tm)
    return tm.takeError();

  // Read before lowering, which need not keep function attributes.
  std::map<std::string, std::string> signatures;
  kernels.walk([&](func::FuncOp fn) {
    if (auto signature = fn->getAttrOfType<StringAttr>(llama::kKernelSignatureAttr))
      signatures[fn.getName().str()] = signature.str();
  });

  // Without a conversion instruction LLVM rounds f32 to bf16 (a bf16 KV
  // cache, bf16-rounded activations) by calling __truncsfbf2, which the
  // kernel library cannot resolve where libgcc predates GCC 13 (Debian 12):
  // such chips (AVX2 only) get the rounding as integer ops instead.
  bool softBf16 = !(*tm)->getMCSubtargetInfo()->checkFeatures("+avx512bf16") &&
                  !(*tm)->getMCSubtargetInfo()->checkFeatures("+avxneconvert");
  CpuLlvmSettings settings;
  settings.bf16Dot = bf16Dot;
  settings.intDot = intDot;
  settings.amx = amx;
  settings.bf16DotFma = bf16DotFma;
  settings.softBf16 = softBf16;
  settings.prefillKPanelBytes = options.prefillKPanelBytes;
  for (const Phase &phase : getCpuKernelPhases(settings)) {
    PassManager pm(kernels.getContext());
    phase.build(pm);
    if (failed(pm.run(kernels)))
      return makeError("lowering phase '" + phase.name + "' failed");
    if (options.afterPhase)
      options.afterPhase(phase.name, kernels);
  }

  registerBuiltinDialectTranslation(*kernels.getContext());
  registerLLVMDialectTranslation(*kernels.getContext());
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> module = translateModuleToLLVMIR(kernels, llvmContext);
  if (!module)
    return makeError("translation of the kernels to LLVM IR failed");
  module->setTargetTriple((*tm)->getTargetTriple());
  module->setDataLayout((*tm)->createDataLayout());
  addPackedWrappers(*module, signatures);
  std::vector<std::string> amxFeatures = amxFeaturesUsed(*module);
  if (amx == "variants")
    enableAmxInVariants(*module, (*tm)->getTargetFeatureString());
  if (llvm::Error err = makeOptimizingTransformer(3, 0, tm->get())(module.get()))
    return std::move(err);

  // Object file, then a shared object linked by LLVM 22's lld.
  // Removed on return, and by LLVM's signal handlers on Ctrl-C or SIGTERM
  // (each interrupted compile would otherwise leave them in $TMPDIR).
  llvm::SmallString<128> objPath, soPath;
  llvm::scope_exit cleanup([&] {
    for (const llvm::SmallString<128> *path : {&objPath, &soPath})
      if (!path->empty()) {
        llvm::sys::fs::remove(*path);
        llvm::sys::DontRemoveFileOnSignal(*path);
      }
  });
  for (auto [path, suffix] : {std::pair{&objPath, "o"}, std::pair{&soPath, "so"}})
    if (std::error_code ec = createRegisteredTemporary(suffix, *path)) {
      llvm::SmallString<128> dir;
      llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, dir);
      path->clear();
      return makeError("cannot create a temporary file in " + dir +
                       " (the directory $TMPDIR names, or /tmp): " + ec.message());
    }
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objPath, ec);
    if (ec)
      return makeError("cannot write " + objPath + ": " + ec.message());
    llvm::legacy::PassManager codegen;
    if ((*tm)->addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      return makeError("the target cannot emit object files");
    codegen.run(*module);
    // An unchecked stream error (a full $TMPDIR, `ulimit -f`) would end the
    // process with "LLVM ERROR" when `os` is destroyed.
    os.close();
    if (os.has_error()) {
      std::error_code writeError = os.error();
      os.clear_error();
      return makeError("cannot write " + objPath + ": " + writeError.message());
    }
  }
  auto lld = llvm::sys::findProgramByName("ld.lld", {"/usr/lib/llvm-22/bin"});
  if (!lld)
    return makeError("ld.lld of LLVM 22 not found (install lld-22)");
  std::string errMsg;
  llvm::SmallVector<llvm::StringRef> argv{*lld, "-shared", "--gc-sections",
                                         "-o", soPath, objPath};
  // LLVM legalizes bf16 scalars on a chip without AVX-512 BF16 by promoting
  // them to f32 and calling __truncsfbf2 to store them, which libgcc lacks
  // before GCC 13 (Debian 12): the library takes it, and any other builtin
  // its code calls, from compiler-rt's archive (only what it references).
  if (softBf16) {
    if (!llvm::sys::fs::exists(kCompilerRtBuiltins))
      return makeError(std::string("compiler-rt's builtins of LLVM 22 not found at ") +
                       kCompilerRtBuiltins + " (install libclang-rt-22-dev); '" +
                       (*tm)->getTargetCPU() +
                       "' has no bf16 conversion instruction and needs them");
    argv.push_back(kCompilerRtBuiltins);
  }
  if (llvm::sys::ExecuteAndWait(*lld, argv, std::nullopt, {}, 0, 0, &errMsg) != 0)
    return makeError("linking the kernel library failed: " + errMsg);
  auto so = llvm::MemoryBuffer::getFile(soPath);
  if (!so)
    return makeError("cannot read " + soPath);

  CpuKernelLibrary library;
  library.sharedObject = (*so)->getBuffer().str();
  library.cpuName = (*tm)->getTargetCPU().str();
  const llvm::MCSubtargetInfo *sti = (*tm)->getMCSubtargetInfo();
  for (const FeatureName &f : kX86Features)
    if (sti->checkFeatures(std::string("+") + f.llvm))
      library.cpuFeatures.push_back(f.cpuinfo);
  // The features come from the chip, so avx512_bf16 is among them whenever
  // the dot path was chosen; the runtime refuses the artifact without it.
  library.bf16Dot = bf16Dot;
  library.bf16DotFma = bf16DotFma;
  library.intDot = intDot;
  // Kernels without bf16 prefill projections have no variant to call.
  bool anyVariant = llvm::any_of(*module, [](const llvm::Function &fn) {
    return fn.getName().ends_with(artifact::kAmxVariantSuffix);
  });
  library.amx = amx == "variants" ? (anyVariant ? "variants" : "")
                : amx == "emulate" ? "emulated"
                                   : "";
  if (library.amx == "variants")
    library.amxFeatures = std::move(amxFeatures);
  return library;
}

} // namespace llamac
