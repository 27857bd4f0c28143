//===- TensorParallelRun.h - run the rank probe under mpirun ----*- C++ -*-===//
//
// Shared by the tensor-parallel end-to-end tests: `mpirun -np N` of
// tp_rank_probe (TensorParallelProbe.cpp) on an artifact, and what rank 0
// wrote: the greedy tokens of every reference prompt and the logits of
// every step of the reference sequences.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_E2E_TENSORPARALLELRUN_H
#define LLAMAC_TEST_E2E_TENSORPARALLELRUN_H

#include "test/e2e/ShortGreedyCases.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace llamac::testing {

inline bool haveMpi() {
  return !std::string(LLAMAC_MPIRUN).empty() && !std::string(LLAMAC_TP_PROBE).empty();
}

inline std::string e2ePath(const std::string &name) {
  return std::string(LLAMAC_E2E_DIR) + "/" + name;
}

/// What rank 0 of the probe wrote.
struct ProbeOutput {
  nlohmann::json generated; ///< per prompt, the greedy tokens
  std::vector<float> logits; ///< every step of every reference sequence
};

/// Runs the probe on `ranks` MPI ranks; its exit status. `out` is the
/// prefix of the files rank 0 writes; `maxSteps` as shortGreedyCases
/// (ShortGreedyCases.h).
inline int runProbe(int ranks, const std::string &artifact, const std::string &out,
                    int64_t maxSteps = 0) {
  std::remove((out + ".json").c_str());
  std::remove((out + ".f32").c_str());
  // As root (CI runs as root) Open MPI needs to be told it may; more ranks
  // than cores is what --oversubscribe allows. mpirun would forward its
  // stdin to rank 0, reading the test runner's: it gets none.
  std::string command = std::string(LLAMAC_MPIRUN) +
                        " --allow-run-as-root --oversubscribe --stdin none -np " +
                        std::to_string(ranks) + " " + LLAMAC_TP_PROBE + " " + artifact + " " +
                        out + (maxSteps > 0 ? " " + std::to_string(maxSteps) : "") +
                        " < /dev/null 2>&1";
  return std::system(command.c_str());
}

inline ProbeOutput readProbeOutput(const std::string &out) {
  ProbeOutput result;
  std::ifstream json(out + ".json");
  result.generated = nlohmann::json::parse(json, nullptr, false);
  std::ifstream f32(out + ".f32", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f32)), std::istreambuf_iterator<char>());
  result.logits.resize(bytes.size() / sizeof(float));
  std::copy(bytes.begin(), bytes.begin() + result.logits.size() * sizeof(float),
            reinterpret_cast<char *>(result.logits.data()));
  return result;
}

} // namespace llamac::testing

#endif // LLAMAC_TEST_E2E_TENSORPARALLELRUN_H
