//===- ArtifactTokenizer.cpp - the tokenizer an artifact embeds -----------===//

#include "runtime/api/ArtifactTokenizer.h"

#include "absl/strings/str_cat.h"

namespace llamac::runtime {

absl::StatusOr<std::unique_ptr<Tokenizer>> loadArtifactTokenizer(const Artifact &artifact,
                                                                  const std::string &path) {
  const ArtifactMetadata &meta = artifact.metadata();
  absl::string_view bytes = artifact.tokenizerBytes();
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      Tokenizer::loadKind(meta.tokenizer.kind, std::string_view(bytes.data(), bytes.size()));
  if (!tokenizer.ok())
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": cannot load the tokenizer: ", tokenizer.status().message()));
  if ((*tokenizer)->vocabSize() != meta.model.vocab)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the tokenizer has ", (*tokenizer)->vocabSize(),
                     " tokens but the model's vocabulary is ", meta.model.vocab));
  return tokenizer;
}

} // namespace llamac::runtime
