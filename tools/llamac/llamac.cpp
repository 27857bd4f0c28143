//===- llamac.cpp - compile a Llama checkpoint into an artifact -----------===//
//
//   llamac compile <checkpoint-dir | model.bin> -o <artifact> [options]
//
// A thin main over compiler/driver: parses flags, prints `error: ...` and
// exits non-zero on any failure.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"
#include "compiler/driver/Compile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {
cl::OptionCategory category("llamac compile options");
cl::opt<std::string> input(cl::Positional, cl::desc("<checkpoint-dir | model.bin>"),
                           cl::cat(category));
cl::opt<std::string> output("o", cl::desc("Output artifact"), cl::value_desc("artifact"),
                            cl::cat(category));
cl::opt<std::string> target("target", cl::desc("Code generation target: cpu | nvvm | rocdl"),
                            cl::init("cpu"), cl::cat(category));
cl::opt<std::string> chip("chip",
                          cl::desc("CPU to compile for: native (this machine) or an LLVM "
                                   "CPU name such as x86-64-v3, x86-64-v4"),
                          cl::init("native"), cl::cat(category));
cl::opt<std::string> dtype("dtype", cl::desc("Weight type: f32 | bf16 | f16 (default: the checkpoint's)"),
                           cl::cat(category));
cl::opt<std::string> quantize("quantize", cl::desc("Weight quantization: none | int8 | int4"),
                              cl::init("none"), cl::cat(category));
cl::opt<int64_t> maxSeqLen("max-seq-len", cl::desc("KV-cache length (default: the model's context)"),
                           cl::init(0), cl::cat(category));
cl::opt<int64_t> prefillTokens("prefill-tokens",
                               cl::desc("Tokens per prefill call (default: min(64, max-seq-len))"),
                               cl::init(0), cl::cat(category));
cl::opt<int64_t> minParallelBytes(
    "min-parallel-bytes",
    cl::desc("Split a linear layer over threads only when its weights have at least this many bytes"),
    cl::init(1 << 20), cl::cat(category));
cl::opt<std::string> tokenizer("tokenizer", cl::desc("sentencepiece tokenizer.model to use"),
                               cl::cat(category));
cl::opt<std::string> dumpIrAfter("dump-ir-after",
                                 cl::desc("Print the IR after a phase: import | optimize | kernels | "
                                          "linalg | bufferize | llvm"),
                                 cl::cat(category));
cl::opt<bool> summary("summary", cl::desc("Print the model's shape, parameter count and bytes"),
                      cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("No progress output even on a terminal"), cl::cat(category));

int fail(const Twine &message) {
  errs() << "error: " << message << "\n";
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  if (argc < 2 || StringRef(argv[1]) != "compile") {
    if (argc >= 2 && (StringRef(argv[1]) == "--help" || StringRef(argv[1]) == "-h")) {
      outs() << "usage: llamac compile <checkpoint-dir | model.bin> -o <artifact> [options]\n"
                "       llamac compile --help   for the options\n";
      return 0;
    }
    return fail(argc < 2 ? "missing command; usage: llamac compile <checkpoint> -o <artifact>"
                         : "unknown command '" + Twine(argv[1]) + "'; usage: llamac compile <checkpoint> -o <artifact>");
  }
  cl::HideUnrelatedOptions(category);
  // Drop the "compile" word so cl sees the options.
  std::vector<const char *> args{argv[0]};
  for (int i = 2; i < argc; ++i)
    args.push_back(argv[i]);
  std::string parseErrors;
  raw_string_ostream parseErr(parseErrors);
  if (!cl::ParseCommandLineOptions(static_cast<int>(args.size()), args.data(),
                                   "llamac: compile a Llama checkpoint into an artifact\n",
                                   &parseErr)) {
    // cl prefixes its messages with the program name; ours start "error:".
    StringRef first = StringRef(parseErrors).trim().split('\n').first;
    auto [program, rest] = first.split(": ");
    return fail(rest.empty() || program.contains(' ') ? first : rest);
  }
  if (input.empty())
    return fail("no checkpoint given; usage: llamac compile <checkpoint> -o <artifact>");
  if (quantize != "none")
    return fail("--quantize " + quantize + " is not implemented yet");

  llamac::CompileOptions options;
  options.input = input;
  options.output = output;
  options.tokenizer = tokenizer;
  options.target = target;
  options.chip = chip;
  options.dtype = dtype;
  options.maxSeqLen = maxSeqLen;
  options.prefillTokens = prefillTokens;
  options.minParallelBytes = minParallelBytes;
  options.dumpIrAfter = dumpIrAfter;
  options.summary = summary;
  options.progress = !quiet && sys::Process::StandardErrIsDisplayed();
  if (Error err = llamac::compileModel(options, errs()))
    return fail(toString(std::move(err)));
  return 0;
}
