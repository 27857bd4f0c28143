//===- ShortGreedyCases.h - the reference prompts up to a length -*- C++ -*-===//
//
// The tensor-parallel probe and its tests agree on which llama2.c reference
// prompts run: all, or those of at most a number of steps (a larger model's
// test keeps to the short ones).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_E2E_SHORTGREEDYCASES_H
#define LLAMAC_TEST_E2E_SHORTGREEDYCASES_H

#include "test/unit/TestData.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace llamac::testing {

/// The reference prompts of at most `maxSteps` steps (all for 0); empty,
/// with `error` set, when none is left.
inline std::vector<GreedyCase> shortGreedyCases(std::string &error, int64_t maxSteps) {
  std::vector<GreedyCase> cases = loadGreedyCases(error);
  if (maxSteps > 0)
    cases.erase(std::remove_if(cases.begin(), cases.end(),
                               [&](const GreedyCase &c) { return c.steps > maxSteps; }),
                cases.end());
  if (cases.empty() && error.empty())
    error = "no reference prompt of at most " + std::to_string(maxSteps) + " steps";
  return cases;
}

} // namespace llamac::testing

#endif // LLAMAC_TEST_E2E_SHORTGREEDYCASES_H
