//===- KernelChecks.h - dispatches against the kernels' signatures -*- C++ -*-===//
//
// A dispatch's bindings, scalars and range become the kernel's arguments;
// a schedule that disagrees with its kernel (a binding too few, a buffer
// smaller than the kernel's tensor, a cache of another shape) would make
// the kernel read or write out of bounds. So before anything runs, every
// dispatch is compared with the signature the kernel library records for its
// kernel (KernelSignature.h).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_KERNELCHECKS_H
#define LLAMAC_RUNTIME_ARTIFACT_KERNELCHECKS_H

#include "runtime/artifact/ArtifactSchema.h"

#include "absl/status/status.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace llamac::runtime {

/// The signature the code records for a kernel: its text, "" when the code
/// has none for it (an error), or nullopt when the code object records no
/// signatures at all (GPU code objects; nothing is checked).
using SignatureLookup =
    std::function<std::optional<std::string>(std::string_view kernel)>;

/// The signatures `fromCode` gives, or where the code object records none
/// (GPU targets), those of the metadata's `kernel_signatures`.
SignatureLookup withMetadataSignatures(const ArtifactMetadata &meta,
                                       SignatureLookup fromCode);

/// Checks every dispatch of `meta` against `lookup`. Errors name the
/// dispatch and the argument, e.g. "metadata: entry_points.decode.schedule.
/// layer_body[2] passes 5 arguments but kernel 'k3_linear' takes 6".
absl::Status checkKernelSignatures(const ArtifactMetadata &meta,
                                   const SignatureLookup &lookup);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_KERNELCHECKS_H
