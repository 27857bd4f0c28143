//===- LlamaRunProcess.cpp - run the built llama-run in a test ------------===//

#include "test/runtime/LlamaRunProcess.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

namespace llamac::test {

namespace {

std::string shellQuote(const std::string &s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

} // namespace

RunResult runLlamaRun(const std::vector<std::string> &args) {
  std::string base = "/tmp/llamac-rt-cli-" + std::to_string(getpid());
  std::string cmd = shellQuote(LLAMAC_LLAMA_RUN_PATH);
  for (const std::string &a : args)
    cmd += " " + shellQuote(a);
  cmd += " >" + base + ".out 2>" + base + ".err";
  int raw = std::system(cmd.c_str());
  RunResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.out = readFile(base + ".out");
  r.err = readFile(base + ".err");
  unlink((base + ".out").c_str());
  unlink((base + ".err").c_str());
  return r;
}

std::string lastLine(const std::string &out) {
  if (out.empty() || out.back() != '\n')
    return "";
  std::string body = out.substr(0, out.size() - 1);
  size_t nl = body.rfind('\n');
  return nl == std::string::npos ? body : body.substr(nl + 1);
}

void expectOneErrorLine(const RunResult &r, int status) {
  EXPECT_EQ(r.status, status) << r.err;
  EXPECT_THAT(r.err, ::testing::StartsWith("error: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

} // namespace llamac::test
