//===- MoeTiny.h - the synthetic Mixtral the e2e build compiles -*- C++ -*-===//
//
// Shared by MixtureOfExpertsE2E and MixtureOfExpertsQuantizedE2E: the
// directory of `llamac synth --preset moe-tiny` (test/e2e/CMakeLists.txt
// compiles it into `synth-moe-tiny<suffix>.llamac`) and the tokens they feed.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_E2E_MOETINY_H
#define LLAMAC_TEST_E2E_MOETINY_H

#include <cstdint>
#include <string>

namespace llamac::testing {

/// The synthesized checkpoint; its artifacts are this path plus a suffix.
inline std::string moeTinyDir() { return std::string(LLAMAC_E2E_DIR) + "/synth-moe-tiny"; }

/// The token fed at position `pos`: BOS, then a fixed spread over the
/// 512-token vocabulary (no random numbers: the same in every test).
inline int32_t moeTinyToken(int64_t pos) {
  return pos == 0 ? 1 : static_cast<int32_t>((pos * 131 + 29) % 509 + 2);
}

} // namespace llamac::testing

#endif // LLAMAC_TEST_E2E_MOETINY_H
