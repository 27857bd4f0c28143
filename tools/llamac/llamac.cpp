//===- llamac.cpp - compile a Llama checkpoint into an artifact -----------===//
//
//   llamac compile <checkpoint-dir | model.bin> -o <artifact> [options]
//   llamac synth --preset NAME -o <dir> [options]
//
// A thin main over compiler/driver: parses flags, prints `error: ...` and
// exits non-zero on any failure.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"
#include "compiler/driver/Compile.h"
#include "compiler/synth/Synth.h"
#include "tools/common/ToolErrors.h"
#include "tools/common/Version.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>
#include <cstdio>
#include <string>
#include <tuple>
#include <sys/mman.h>
#include <unistd.h>

using namespace llvm;

namespace {
/// `llamac compile`'s options live in their own cl::SubCommand, so that
/// `llamac compile --help` shows compile's usage and synth's options
/// cannot be given to it.
cl::SubCommand compileCommand("compile", "Compile a Llama checkpoint into an artifact");
cl::OptionCategory category("llamac compile options");
cl::opt<std::string> input(cl::Positional, cl::desc("<checkpoint-dir | model.bin>"),
                           cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> output("o", cl::desc("Output artifact"), cl::value_desc("artifact"),
                            cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> target("target", cl::desc("Code generation target: cpu | nvvm | rocdl (default cpu)"),
                            cl::init("cpu"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> chip("chip",
                          cl::desc("Chip to compile for. cpu: native (this machine, the default) or "
                                   "an LLVM CPU name such as x86-64-v4; nvvm: sm_75 to sm_121a, "
                                   "e.g. sm_80 | sm_90 | sm_90a (default sm_90); rocdl: gfx906 | "
                                   "gfx908 | gfx90a | gfx942 | gfx950 (default gfx942)"),
                          cl::init("native"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> cudaToolkit("cuda-toolkit",
                                 cl::desc("nvvm: the CUDA toolkit directory with bin/ptxas "
                                          "(default: $CUDA_HOME, $CUDA_PATH, /usr/local/cuda)"),
                                 cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> dtype("dtype", cl::desc("Weight type: f32 | bf16 | f16 (default: the checkpoint's; f32 where its tensors mix types)"),
                           cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> bf16Dot(
    "bf16-dot",
    cl::desc("bf16 weights: round the activations of linear layers to bf16 and multiply "
             "on the chip's bf16 dot units: vdpbf16ps on the CPU (on Intel chips its sums as "
             "two f32 FMAs per pair), mma.sync / MFMA for GPU prefill: auto (the default: when the chip has them) | on | off"),
    cl::init("auto"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> gpuGemv(
    "gpu-gemv",
    cl::desc("nvvm/rocdl: how a GEMV block's 4 subgroups share a projection: rows (the default: each "
             "subgroup its own 2-4 rows, measured on an H200) | split-k (all on the same rows, "
             "each a quarter of the columns, summed in shared memory: four times the blocks; "
             "not yet measured on a GPU)"),
    cl::init("rows"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> intDot(
    "int-dot",
    cl::desc("int8/int4 weights: quantize the activations of linear layers to bytes per "
             "block (int8: 64-256 columns, int4: the group) and multiply with AVX-512 VNNI vpdpbusd: auto (the default: when the chip has "
             "it) | on | off (dequantize to f32 in registers)"),
    cl::init("auto"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> amx(
    "amx",
    cl::desc("bf16, int8 and int4 weights: prefill projections as AMX tile kernels (tdpbf16ps, "
             "tdpbssd on activations quantized per token), stored "
             "beside the AVX-512 ones and called where the CPU has the AMX features they "
             "need: auto (the default: when the chip has them) | on | off | emulate (the prefill kernels are AMX tile loops run as "
             "plain vector code: tests on any CPU)"),
    cl::init("auto"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> quantize(
    "quantize",
    cl::desc("Quantize the projections' weights (docs/quantization.md): none (the default) | int8 (per "
             "row) | int4 (groups along K) | int4-gptq"),
    cl::init("none"), cl::sub(compileCommand), cl::cat(category));
// Numbers are read as text and converted here: cl's own integer parser
// prints its complaint to stderr itself, ahead of our one `error:` line.
cl::opt<std::string> kvDtype("kv-dtype",
                             cl::desc("KV-cache element type: f32 | bf16 | f16 (default: the "
                                      "weights' type)"),
                             cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> groupSize("group-size",
                               cl::desc("int4, int4-gptq: columns per scale and zero: 32 | 64 | 128 | 256 "
                                        "(default 128)"),
                               cl::value_desc("N"), cl::init("0"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> calibration(
    "calibration",
    cl::desc("int4-gptq: text whose activations GPTQ weighs the weights' errors by"),
    cl::value_desc("file"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> calibrationSeparator(
    "calibration-separator",
    cl::desc("int4-gptq: lines equal to this split the calibration text into documents, as "
             "llama-run eval's --separator (default: windows of --max-seq-len tokens)"),
    cl::value_desc("text"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> calibrationTokens(
    "calibration-tokens",
    cl::desc("int4-gptq: at most this many tokens of the calibration text (default: all)"),
    cl::value_desc("N"), cl::init("0"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> maxSeqLen("max-seq-len",
                               cl::desc("Longest sequence a run may ask for (default: "
                                        "min(the model's context, 8192))"),
                               cl::value_desc("N"), cl::init("0"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> prefillTokens("prefill-tokens",
                                   cl::desc("Tokens per prefill call (default: min(128, max-seq-len))"),
                                   cl::value_desc("N"), cl::init("0"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> speculateK(
    "speculate-k",
    cl::desc("Draft tokens speculative decoding scores per target pass: the artifact gets a "
             "`verify` entry point of K + 1 tokens whose rows equal decode's (default 5, or "
             "max-seq-len - 1 where that is fewer; 0 = none)"),
    cl::value_desc("K"), cl::init(std::to_string(llamac::kDefaultSpeculateK)), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> tensorParallel(
    "tp",
    cl::desc("Tensor-parallel ranks: split every layer over N processes, run with "
             "`mpirun -np N llama-run` (default 1; docs/tensor-parallel.md)"),
    cl::value_desc("N"), cl::init("1"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> tpClassifier(
    "tp-classifier",
    cl::desc("With --tp N: split (the default: each rank computes vocab/N rows of the logits "
             "and an all-gather puts them together) | whole (every rank reads the whole output "
             "head, as gpt-fast does; no all-gather)"),
    cl::init("split"), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> minParallelBytes(
    "min-parallel-bytes",
    cl::desc("Split a decode projection over threads only when its weights have at least this "
             "many bytes (prefill: 1/16 of it; attention: 1/4 of its cache bytes; default "
             "4194304; cpu only)"),
    cl::value_desc("N"), cl::init(std::to_string(4 << 20)), cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> prefillKPanelBytes(
    "prefill-k-panel-bytes",
    cl::desc("CPU prefill projections whose row blocks hold more weight bytes than this run k "
             "in panels of this many, so that a panel stays in L1 (0: never; the results are "
             "the same bits; default 24576; cpu only; docs/cpu-target.md)"),
    cl::value_desc("N"), cl::init(std::to_string(llamac::kDefaultPrefillKPanelBytes)),
    cl::sub(compileCommand), cl::cat(category));
// cl keeps a pointer to its description: a literal, checked here.
static_assert(llamac::kDefaultPrefillKPanelBytes == 24576, "--prefill-k-panel-bytes' help");
cl::opt<std::string> tokenizer("tokenizer",
                               cl::desc("Tokenizer to use instead of the checkpoint's: a "
                                        "sentencepiece or tiktoken tokenizer.model, or a "
                                        "tokenizer.json (its kind told by its content)"),
                               cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> chatTemplate(
    "chat-template",
    cl::desc("Chat template the artifact records for llama-run --chat: llama3 | llama2 | mistral "
             "| chatml | zephyr | plain (default: recognized from tokenizer_config.json, "
             "docs/chat.md)"),
    cl::sub(compileCommand), cl::cat(category));
cl::opt<std::string> dumpIrAfter("dump-ir-after",
                                 cl::desc("Print the IR after a phase: import | shard | optimize | quantize | kernels | "
                                          "linalg | bufferize | llvm (cpu) | gpu | gpu-llvm "
                                          "(nvvm, rocdl)"),
                                 cl::sub(compileCommand), cl::cat(category));
cl::opt<bool> summary("summary", cl::desc("Print the model's shape, parameter count and bytes, how RoPE and the tokenizer were read, then compile as usual (-o is still needed)"),
                      cl::sub(compileCommand), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("No progress output even on a terminal"), cl::sub(compileCommand), cl::cat(category));
cl::opt<bool> allowNonFinite("allow-nonfinite",
                             cl::desc("Compile weights that hold NaN or infinity instead of "
                                      "refusing them (skips the scan that finds them)"),
                             cl::sub(compileCommand), cl::cat(category));

int fail(const Twine &message) {
  errs() << "error: " << message << "\n";
  return 1;
}

/// Reports the first line of what cl printed about a bad command line.
int failParse(StringRef parseErrors) {
  // cl prefixes its messages with the program name; ours start "error:".
  StringRef first = parseErrors.trim().split('\n').first;
  if (first.empty())
    return fail("invalid command line (llamac compile --help, llamac synth --help)");
  auto [program, rest] = first.split(": ");
  return fail(rest.empty() || program.contains(' ') ? first : rest);
}

/// The value options of `sub` given more than once: cl keeps the last,
/// which would silently drop the first (`--dtype bf16 --dtype f16`).
/// The registry also holds libLLVM's options, whose vtables carry no type
/// information (LLVM is built without RTTI): this file is built without
/// UBSan's vptr check (CMakeLists.txt beside it).
std::string repeatedOption(cl::SubCommand &sub) {
  for (auto &[name, option] : cl::getRegisteredOptions(sub))
    if (option->getNumOccurrences() > 1 &&
        option->getValueExpectedFlag() == cl::ValueRequired &&
        option->getNumOccurrencesFlag() == cl::Optional)
      return name.str();
  return "";
}

/// Whether `name` is one of cl's options that print and exit from inside
/// the parse (help and version): libLLVM's, yet part of every command.
bool printsAndExits(StringRef name) {
  return is_contained({"help", "help-hidden", "help-list", "help-list-hidden", "version"}, name);
}

/// What is wrong with `args` that cl would let through, or "": an option of
/// libLLVM's own (registered for every tool that links it: --debug-counter,
/// --print-after-all, --time-passes, ...) rather than one of `ours` or cl's
/// help and version (no part of llamac's interface; some of them exit from
/// inside the parse, their message lost with the caught stderr), or one of
/// ours given an empty value (`--quantize ""` would read as not given).
std::string misusedOption(ArrayRef<const char *> args, cl::SubCommand &sub,
                          cl::OptionCategory &ours) {
  // cl looks an option up in the subcommand, then in the top level, where
  // libLLVM registers most of its own.
  auto lookup = [&](StringRef name) -> cl::Option * {
    for (cl::SubCommand *in : {&sub, &cl::SubCommand::getTopLevel()}) {
      auto &registered = cl::getRegisteredOptions(*in);
      if (auto found = registered.find(name); found != registered.end())
        return found->second;
    }
    return nullptr;
  };
  for (size_t i = 1; i < args.size(); ++i) {
    StringRef arg = args[i];
    if (arg == "--")
      break;
    if (!arg.starts_with("-"))
      continue;
    auto [spelled, value] = arg.split('=');
    StringRef name = spelled.ltrim('-');
    if (name.empty() || printsAndExits(name))
      continue;
    cl::Option *option = lookup(name);
    if (!option)
      continue;
    if (!is_contained(option->Categories, &ours))
      return "unknown option '" + spelled.str() + "' (llamac " + sub.getName().str() +
             " --help lists the options)";
    bool valueInline = arg.contains('=');
    if (option->getValueExpectedFlag() == cl::ValueRequired &&
        (valueInline ? value.empty() : i + 1 < args.size() && StringRef(args[i + 1]).empty()))
      return spelled.str() + " needs a value; it was given an empty one";
  }
  return "";
}

/// cl::ParseCommandLineOptions, with one `error:` line for any bad command
/// line. Some of cl's messages ("requires a value!", a bad boolean) go
/// straight to stderr instead of the stream it is given, so stderr is
/// caught in a memory file while cl parses. Not for --help and --version,
/// which cl prints and then exits from inside the parse: a failure to
/// write them is reported at exit, on stderr, and must reach it. Returns
/// -1 when the command line is good, else the exit status.
int parseOptions(ArrayRef<const char *> args, const char *overview, cl::SubCommand &sub,
                 cl::OptionCategory &ours) {
  if (std::string misused = misusedOption(args, sub, ours); !misused.empty())
    return fail(misused);
  std::string parseErrors;
  raw_string_ostream parseErr(parseErrors);
  errs().flush();
  std::fflush(stderr);
  bool helpOrVersion =
      llvm::any_of(args, [](StringRef arg) { return printsAndExits(arg.ltrim('-')); });
  int caught = helpOrVersion ? -1 : memfd_create("llamac-cl-errors", MFD_CLOEXEC);
  int saved = caught >= 0 ? dup(STDERR_FILENO) : -1;
  if (saved >= 0)
    dup2(caught, STDERR_FILENO);
  bool ok = cl::ParseCommandLineOptions(static_cast<int>(args.size()), args.data(), overview,
                                        &parseErr);
  if (saved >= 0) {
    errs().flush();
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buffer[4096];
    ssize_t n = pread(caught, buffer, sizeof buffer, 0);
    if (n > 0)
      parseErrors = std::string(buffer, static_cast<size_t>(n)) + parseErrors;
  }
  if (caught >= 0)
    close(caught);
  if (!ok)
    return failParse(parseErrors);
  if (std::string repeated = repeatedOption(sub); !repeated.empty())
    return fail((repeated.size() == 1 ? "-" : "--") + repeated +
                " is given more than once; give it once");
  return -1;
}
} // namespace

/// `llamac synth`'s options live in their own cl::SubCommand, so that its -o
/// and --dtype can be spelled like compile's without the two clashing.
namespace {
namespace synth {
cl::SubCommand command("synth", "Write a random-weight Hugging Face checkpoint");
cl::OptionCategory category("llamac synth options");
cl::opt<std::string> preset("preset", cl::desc("Model shape to imitate (--list shows them)"),
                            cl::sub(command), cl::cat(category));
cl::opt<std::string> output("o", cl::desc("Checkpoint directory to write"), cl::value_desc("dir"),
                            cl::sub(command), cl::cat(category));
cl::opt<std::string> dtype("dtype", cl::desc("Weight type: f32 | bf16 (the default) | f16"), cl::init("bf16"),
                           cl::sub(command), cl::cat(category));
// Numbers are parsed here, not by cl, whose parse errors bypass the error
// stream and so would not come out as one `error:` line.
cl::opt<std::string> seed("seed", cl::desc("Random seed (default 0); the same seed gives the same files"),
                          cl::value_desc("uint64"), cl::init("0"), cl::sub(command),
                          cl::cat(category));
cl::opt<std::string> layers("layers", cl::desc("Number of layers (default: the preset's)"),
                            cl::value_desc("N"), cl::sub(command), cl::cat(category));
cl::opt<std::string> tiedEmbeddings(
    "tied-embeddings",
    cl::desc("on: the classifier is the embedding table (no lm_head); off: its own matrix "
             "(default: the preset's)"),
    cl::value_desc("on|off"), cl::sub(command), cl::cat(category));
cl::opt<bool> force("force", cl::desc("Write into a non-empty directory"), cl::sub(command),
                    cl::cat(category));
cl::opt<bool> list("list", cl::desc("Print the presets with their sizes and exit"),
                   cl::sub(command), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("No progress output even on a terminal"), cl::sub(command),
                    cl::cat(category));

int run(int argc, char **argv) {
  cl::HideUnrelatedOptions(category, command);
  if (int status = parseOptions(ArrayRef(argv, argc),
                                "llamac: write a random-weight checkpoint\n", command,
                                category);
      status >= 0)
    return status;
  if (list) {
    // Every other option would be ignored.
    for (auto &[name, option] : cl::getRegisteredOptions(command))
      if (option->getNumOccurrences() && option != &list && is_contained(option->Categories, &category))
        return fail(Twine("--list takes no other options (") + (name.size() == 1 ? "-" : "--") +
                    name + " was given)");
    llamac::printSynthPresets(outs());
    return 0;
  }
  if (preset.empty())
    return fail("no preset given; usage: llamac synth --preset NAME -o <dir> "
                "(llamac synth --list shows the presets)");
  llamac::SynthOptions options;
  options.preset = preset;
  options.dtype = dtype;
  if (!to_integer(StringRef(seed), options.seed, 10))
    return fail("--seed must be an unsigned 64-bit integer, got '" + seed + "'");
  options.outputDir = output;
  if (layers.getNumOccurrences()) {
    int64_t count = 0;
    if (!to_integer(StringRef(layers), count, 10))
      return fail("--layers must be an integer, got '" + layers + "'");
    options.layers = count;
  }
  if (tiedEmbeddings.getNumOccurrences()) {
    if (tiedEmbeddings != "on" && tiedEmbeddings != "off")
      return fail("--tied-embeddings must be on or off, got '" + tiedEmbeddings + "'");
    options.tiedEmbeddings = tiedEmbeddings == "on";
  }
  options.force = force;
  options.progress = !quiet && sys::Process::StandardErrIsDisplayed();
  if (Error err = llamac::synthesizeCheckpoint(options, errs()))
    return fail(toString(std::move(err)));
  return 0;
}
} // namespace synth
} // namespace

namespace {
/// LLVM's fatal errors (a failed thread creation in its thread pool, an
/// out-of-memory) would print "LLVM ERROR: ..." and abort; they are one
/// `error:` line and exit status 1 like every other failure.
[[noreturn]] void onLlvmFatalError(void *, const char *reason, bool) {
  // Removes the temporaries registered with RemoveFileOnSignal.
  sys::RunInterruptHandlers();
  std::fprintf(stderr, "error: %s\n", reason);
  std::fflush(stderr);
  _exit(1);
}

/// What main() returns after the command's own status: a failed write to
/// stdout (--summary, --dump-ir-after, synth --list into a full disk) is an
/// error, and must not reach raw_fd_ostream's destructor, which would
/// report it as "LLVM ERROR".
int finishOutput(int status) {
  outs().flush();
  if (!outs().has_error())
    return status;
  std::error_code error = outs().error();
  outs().clear_error();
  if (status != 0)
    return status;
  return fail("cannot write to standard output: " + error.message());
}

int run(int argc, char **argv);
} // namespace

int main(int argc, char **argv) {
  // Without LLVM's SIGPIPE handler (it exits at once; see below).
  InitLLVM init(argc, argv, /*InstallPipeSignalExitHandler=*/false);
  llamac::tools::installToolErrorHandlers(sys::RunInterruptHandlers);
  install_fatal_error_handler(onLlvmFatalError);
  install_bad_alloc_error_handler(onLlvmFatalError);
  // A closed pipe (`llamac ... --summary | head`) must not kill us by
  // SIGPIPE: the write error is noticed and said (finishOutput), and a
  // compile stops before it replaces its output.
  std::signal(SIGPIPE, SIG_IGN);
  return finishOutput(run(argc, argv));
}

namespace {
int run(int argc, char **argv) {
  auto printVersion = [](raw_ostream &os) {
    os << llamac::tools::versionLine("llamac") << ", built with LLVM " LLVM_VERSION_STRING "\n";
  };
  // cl's own --version (`compile --version`, `synth --version`) would
  // print LLVM's.
  cl::SetVersionPrinter(printVersion);
  if (argc >= 2 && StringRef(argv[1]) == "--version") {
    if (argc > 2)
      return fail("--version takes nothing after it, got '" + Twine(argv[2]) + "'");
    printVersion(outs());
    return 0;
  }
  if (argc >= 2 && StringRef(argv[1]) == "synth")
    return synth::run(argc, argv);
  if (argc < 2 || StringRef(argv[1]) != "compile") {
    if (argc >= 2 && (StringRef(argv[1]) == "--help" || StringRef(argv[1]) == "-h")) {
      outs() << "usage: llamac compile <checkpoint-dir | model.bin> -o <artifact> [options]\n"
                "       llamac synth --preset NAME -o <dir> [options]\n"
                "       llamac --version\n"
                "       llamac compile --help, llamac synth --help   for the options\n";
      return 0;
    }
    return fail(argc < 2 ? "missing command; usage: llamac compile <checkpoint> -o <artifact>"
                         : "unknown command '" + Twine(argv[1]) + "'; usage: llamac compile <checkpoint> -o <artifact>");
  }
  cl::HideUnrelatedOptions(category, compileCommand);
  if (int status = parseOptions(ArrayRef(argv, argc),
                                "llamac: compile a Llama checkpoint into an artifact\n",
                                compileCommand, category);
      status >= 0)
    return status;
  if (input.empty())
    return fail("no checkpoint given; usage: llamac compile <checkpoint> -o <artifact>");
  // Flags that mean nothing for the target given would be silently ignored.
  bool gpuTarget = target == "nvvm" || target == "rocdl";
  if (gpuTarget && chip.getNumOccurrences() && chip == "native")
    return fail("--chip native is this machine's CPU; for --target " + target +
                " name the GPU (e.g. " + (target == "nvvm" ? "sm_90" : "gfx942") +
                ") or leave --chip out");
  if ((target == "cpu" || target == "rocdl") && cudaToolkit.getNumOccurrences())
    return fail("--cuda-toolkit is for --target nvvm (its ptxas); this compile is for --target " +
                target);

  llamac::CompileOptions options;
  options.input = input;
  options.output = output;
  options.tokenizer = tokenizer;
  options.chatTemplate = chatTemplate;
  options.target = target;
  options.chip = chip;
  options.toolkit = cudaToolkit;
  options.dtype = dtype;
  options.kvDtype = kvDtype;
  options.bf16Dot = bf16Dot;
  options.amx = amx;
  options.gpuGemv = gpuGemv;
  options.quantize = quantize;
  options.intDot = intDot;
  options.calibration = calibration;
  if (calibrationSeparator.getNumOccurrences())
    options.calibrationSeparator = calibrationSeparator.getValue();
  for (auto [flag, text, value] :
       {std::tuple{"--max-seq-len", &maxSeqLen, &options.maxSeqLen},
        std::tuple{"--prefill-tokens", &prefillTokens, &options.prefillTokens},
        std::tuple{"--min-parallel-bytes", &minParallelBytes, &options.minParallelBytes},
        std::tuple{"--prefill-k-panel-bytes", &prefillKPanelBytes, &options.prefillKPanelBytes},
        std::tuple{"--group-size", &groupSize, &options.groupSize},
        std::tuple{"--tp", &tensorParallel, &options.tensorParallel},
        std::tuple{"--calibration-tokens", &calibrationTokens, &options.calibrationTokens}})
    if (!to_integer(StringRef(text->getValue()), *value, 10) || *value < 0)
      return fail(Twine(flag) + " must be a non-negative integer, got '" + text->getValue() + "'");
  if (speculateK.getNumOccurrences()) {
    int64_t k = 0;
    if (!to_integer(StringRef(speculateK.getValue()), k, 10) || k < 0)
      return fail("--speculate-k must be a non-negative integer, got '" + speculateK.getValue() +
                  "'");
    options.speculateK = k;
  }
  // 0 means "the default" inside; given on the command line it is a mistake.
  if (maxSeqLen.getNumOccurrences() && options.maxSeqLen == 0)
    return fail("--max-seq-len must be positive, got 0");
  if (prefillTokens.getNumOccurrences() && options.prefillTokens == 0)
    return fail("--prefill-tokens must be in [1, max-seq-len], got 0");
  if (prefillKPanelBytes.getNumOccurrences() && StringRef(target) != "cpu")
    return fail("--prefill-k-panel-bytes applies to --target cpu (GPU kernels have no prefill "
                "row blocks to split)");
  if (minParallelBytes.getNumOccurrences() && StringRef(target) != "cpu")
    return fail("--min-parallel-bytes applies to --target cpu (GPU kernels spread every "
                "projection over the device)");
  if (calibrationTokens.getNumOccurrences() && options.calibrationTokens == 0)
    return fail("--calibration-tokens must be positive, got 0");
  if (groupSize.getNumOccurrences() && options.groupSize == 0)
    return fail("--group-size must be 32, 64, 128 or 256, got 0");
  if (options.tensorParallel == 0)
    return fail("--tp must be at least 1 (the number of tensor-parallel ranks), got 0");
  if (tpClassifier.getNumOccurrences() && options.tensorParallel == 1)
    return fail("--tp-classifier applies with --tp N, N > 1 (one process holds the whole "
                "classifier)");
  options.tpClassifier = tpClassifier;
  options.dumpIrAfter = dumpIrAfter;
  options.summary = summary;
  options.allowNonFinite = allowNonFinite;
  options.progress = !quiet && sys::Process::StandardErrIsDisplayed();
  if (Error err = llamac::compileModel(options, errs()))
    return fail(toString(std::move(err)));
  return 0;
}
} // namespace
