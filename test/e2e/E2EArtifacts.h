//===- E2EArtifacts.h - the stories260K artifacts the e2e build compiles -===//
//
// Shared by the end-to-end tests that open `stories260K-<suffix>.llamac`
// (or another artifact) from the build's e2e directory
// (test/e2e/CMakeLists.txt compiles them).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_E2E_E2EARTIFACTS_H
#define LLAMAC_TEST_E2E_E2EARTIFACTS_H

#include "runtime/api/Model.h"
#include "runtime/api/Session.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace llamac::testing {

/// A session of the artifact at `path` on `threads` threads; null (and a
/// test failure naming the error) if it does not load.
inline std::unique_ptr<Session> openSession(const std::string &path, int threads = 2) {
  ModelOptions options;
  options.threads = threads;
  auto model = Model::load(path, options);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok())
    return nullptr;
  auto session = Session::create(*model);
  EXPECT_TRUE(session.ok()) << session.status();
  return session.ok() ? std::move(*session) : nullptr;
}

/// stories260K-<suffix>.llamac on 2 threads, and the load's error message.
inline std::pair<std::shared_ptr<const Model>, std::string>
tryLoadStoriesArtifact(const std::string &suffix) {
  ModelOptions options;
  options.threads = 2;
  auto model =
      Model::load(std::string(LLAMAC_E2E_DIR) + "/stories260K-" + suffix + ".llamac", options);
  if (!model.ok())
    return {nullptr, std::string(model.status().message())};
  return {*model, ""};
}

/// stories260K-<suffix>.llamac on 2 threads; null (and a test failure
/// naming the error) if it does not load.
inline std::shared_ptr<const Model> loadStoriesArtifact(const std::string &suffix) {
  auto [model, error] = tryLoadStoriesArtifact(suffix);
  EXPECT_TRUE(model) << error;
  return model;
}

/// This CPU's feature flags, read from /proc/cpuinfo here rather than by
/// the runtime whose choices the tests check.
inline std::set<std::string> hostCpuFlags() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0 && line.find(':') != std::string::npos) {
      std::istringstream words(line.substr(line.find(':') + 1));
      return {std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    }
  return {};
}

/// True if /proc/cpuinfo reports the tile state and each of `features`
/// (`amx_bf16`, `amx_int8`) and LLAMAC_AMX does not turn the tiles off: where
/// an artifact's AMX variants must run (Linux grants the tile state to any
/// process on kernels that list the flags). Independent of
/// hal::cpu::amxUsable, whose choice the tests check.
inline bool cpuinfoReportsAmx(const std::vector<std::string> &features) {
  const char *setting = std::getenv("LLAMAC_AMX");
  if (setting && std::string(setting) == "off")
    return false;
  std::set<std::string> flags = hostCpuFlags();
  if (!flags.count("amx_tile"))
    return false;
  for (const std::string &feature : features)
    if (!flags.count(feature))
      return false;
  return true;
}

/// The one load of stories260K-<suffix>.llamac (2 threads) by a test
/// that skips where the artifact cannot run. `whyNot` is "" when it loaded;
/// when it was compiled for a named chip (sapphirerapids) whose features
/// this CPU lacks (an AVX2-only EPYC), `model` is null, `whyNot` the load's
/// one error naming them, and each named feature must be missing from
/// /proc/cpuinfo; any other load error fails the test.
struct RunnableStoriesArtifact {
  std::shared_ptr<const Model> model;
  std::string whyNot;
};

inline RunnableStoriesArtifact loadStoriesArtifactUnlessThisCpuLacksItsChip(
    const std::string &suffix) {
  const std::string marker = "was compiled for CPU features this machine lacks: ";
  auto [model, message] = tryLoadStoriesArtifact(suffix);
  size_t at = message.find(marker);
  if (model || at == std::string::npos) {
    EXPECT_TRUE(model) << message;
    return {model, ""};
  }
  std::set<std::string> flags = hostCpuFlags();
  std::istringstream missing(message.substr(at + marker.size()));
  std::string feature;
  while (std::getline(missing, feature, ',')) {
    feature.erase(0, feature.find_first_not_of(' '));
    EXPECT_EQ(flags.count(feature), 0u) << feature << " is in /proc/cpuinfo: " << message;
  }
  return {nullptr, message};
}

} // namespace llamac::testing

#endif // LLAMAC_TEST_E2E_E2EARTIFACTS_H
