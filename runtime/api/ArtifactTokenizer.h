//===- ArtifactTokenizer.h - the tokenizer an artifact embeds ---*- C++ -*-===//
//
// One loader for the model, `llama-run check` and `llama-run tokenize`, so
// that all three accept the same artifacts and say the same thing when one
// is wrong.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_ARTIFACTTOKENIZER_H
#define LLAMAC_RUNTIME_API_ARTIFACTTOKENIZER_H

#include "runtime/artifact/Artifact.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>

namespace llamac::runtime {

/// The tokenizer `artifact` (read from `path`) embeds, of the kind its
/// metadata names. Errors, prefixed with `path`: bytes that do not load as
/// that kind, a size other than the model's vocabulary (llamac refuses to
/// write one; ids past either end would be silently wrong).
absl::StatusOr<std::unique_ptr<Tokenizer>> loadArtifactTokenizer(const Artifact &artifact,
                                                                  const std::string &path);

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_API_ARTIFACTTOKENIZER_H
