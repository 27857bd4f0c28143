//===- LlamaRunProcess.h - run the built llama-run in a test ----*- C++ -*-===//

#ifndef LLAMAC_TEST_RUNTIME_LLAMARUNPROCESS_H
#define LLAMAC_TEST_RUNTIME_LLAMARUNPROCESS_H

#include <string>
#include <vector>

namespace llamac::test {

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

/// Runs LLAMAC_LLAMA_RUN_PATH with `args` through the shell (each one
/// quoted) and returns its exit status, stdout and stderr.
RunResult runLlamaRun(const std::vector<std::string> &args);

/// The last line of `out` (which must end in a newline), or "".
std::string lastLine(const std::string &out);

/// Checks the error contract: exit `status`, and exactly one stderr line,
/// starting "error: ".
void expectOneErrorLine(const RunResult &r, int status);

} // namespace llamac::test

#endif // LLAMAC_TEST_RUNTIME_LLAMARUNPROCESS_H
