//===- ReplayMain.cpp - run a fuzz target over files, without libFuzzer ---===//
//
// The default build (any compiler) links each fuzz target with this main
// instead of libFuzzer, and ctest runs it over the target's corpus: every
// input that once crashed stays a regression test in every build. Arguments
// are files or directories (their regular files, sorted); finding no input
// at all is an error, since a replay of nothing proves nothing.
//
//===----------------------------------------------------------------------===//

#include "test/fuzz/FuzzInput.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc,
                                                          char ***argv);

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-')
      continue; // libFuzzer-style flags are the harness's business
    std::filesystem::path arg(argv[i]);
    std::error_code error;
    if (std::filesystem::is_directory(arg, error)) {
      for (const auto &entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file() && entry.path().filename() != "README.md")
          inputs.push_back(entry.path().string());
    } else {
      inputs.push_back(arg.string());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "error: no inputs to replay\n");
    return 1;
  }
  for (const std::string &path : inputs) {
    std::string bytes = llamac::fuzz::readFileOrDie(path);
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", path.c_str(),
                 bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                           bytes.size());
  }
  std::printf("%zu inputs replayed\n", inputs.size());
  return 0;
}
