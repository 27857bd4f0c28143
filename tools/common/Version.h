//===- Version.h - what `--version` prints ------------------------*- C++ -*-===//
//
// The project's version (CMakeLists.txt's `project(VERSION)`) and the
// artifact format the tools write and read: a user comparing two installs,
// or an artifact refused for its format, needs both.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TOOLS_COMMON_VERSION_H
#define LLAMAC_TOOLS_COMMON_VERSION_H

#include "runtime/artifact/ArtifactFormat.h"

#include <string>

namespace llamac::tools {

/// "<tool> 0.1.0 (artifact format 3)".
inline std::string versionLine(const std::string &tool) {
  return tool + " " + LLAMAC_VERSION + " (artifact format " +
         std::to_string(artifact::kFormatVersion) + ")";
}

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_COMMON_VERSION_H
