//===- E2EArtifacts.h - the stories260K artifacts the e2e build compiles -===//
//
// Shared by the end-to-end tests that open `stories260K-<suffix>.llamac`
// from the build's e2e directory (test/e2e/CMakeLists.txt compiles them).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_E2E_E2EARTIFACTS_H
#define LLAMAC_TEST_E2E_E2EARTIFACTS_H

#include "runtime/api/Model.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace llamac::testing {

/// stories260K-<suffix>.llamac on 2 threads; null (and a test failure
/// naming the error) if it does not load.
inline std::shared_ptr<const Model> loadStoriesArtifact(const std::string &suffix) {
  ModelOptions options;
  options.threads = 2;
  auto model =
      Model::load(std::string(LLAMAC_E2E_DIR) + "/stories260K-" + suffix + ".llamac", options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

} // namespace llamac::testing

#endif // LLAMAC_TEST_E2E_E2EARTIFACTS_H
