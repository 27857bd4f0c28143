//===- ArtifactCheck.h - verify all of an artifact ---------------*- C++ -*-===//
//
// `llama-run check`: everything `Artifact::open` checks, every weight's
// checksum, and (for a CPU artifact, whose kernel library records them) the
// schedule against the kernels' signatures, without running anything.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_ARTIFACTCHECK_H
#define LLAMAC_RUNTIME_ARTIFACT_ARTIFACTCHECK_H

#include "runtime/artifact/Artifact.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>

namespace llamac::runtime {

struct ArtifactCheckReport {
  /// Distinct weight tensors checked, every rank's for a tensor-parallel
  /// artifact, and their bytes.
  uint64_t weights = 0;
  uint64_t weightBytes = 0;
  /// Kernels whose signatures the dispatches were checked against; 0 for
  /// code objects that record none (GPU targets).
  uint64_t kernelsChecked = 0;
};

/// Verifies the opened artifact `a` (read from `path`) beyond what opening
/// it checked: every weight's checksum and the schedule against the
/// kernels' signatures. The error is the first problem found, one line
/// naming the file.
absl::StatusOr<ArtifactCheckReport>
checkArtifact(const Artifact &a, const std::string &path,
              const Artifact::VerifyProgress &progress = {});

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_ARTIFACTCHECK_H
