//===- ArtifactCheck.cpp - verify all of an artifact ----------------------===//

#include "runtime/artifact/ArtifactCheck.h"
#include "runtime/artifact/KernelChecks.h"
#include "runtime/artifact/KernelLibrary.h"

#include "absl/strings/str_cat.h"

namespace llamac::runtime {

absl::StatusOr<ArtifactCheckReport>
checkArtifact(const Artifact &a, const std::string &path,
              const Artifact::VerifyProgress &progress) {
  Artifact::VerifiedWeights verified;
  if (absl::Status s = a.verifyWeights(progress, &verified); !s.ok())
    return s;
  ArtifactCheckReport report;
  // Every rank's tensors, not this (rank 0's) table alone.
  report.weights = verified.tensors;
  report.weightBytes = verified.bytes;
  if (a.target().isGpu()) {
    // A GPU code object is not readable here: its signatures are the
    // metadata's.
    if (absl::Status s = checkKernelSignatures(
            a.metadata(), withMetadataSignatures(a.metadata(), [](std::string_view) {
              return std::optional<std::string>();
            }));
        !s.ok())
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
    report.kernelsChecked = a.metadata().kernelSignatures.size();
    return report;
  }
  // The kernels passed their checksum: loading them runs nothing of ours
  // (the library has no initializers) and lets the signatures be read.
  absl::StatusOr<std::unique_ptr<KernelLibrary>> library =
      KernelLibrary::load(a.kernelBytes(), path);
  if (!library.ok())
    return library.status();
  if (absl::Status s = checkKernelSignatures(
          a.metadata(),
          [&](std::string_view kernel) -> std::optional<std::string> {
            return (*library)->signature(
                absl::string_view(kernel.data(), kernel.size()));
          });
      !s.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  report.kernelsChecked = a.metadata().kernelNames().size();
  return report;
}

} // namespace llamac::runtime
