//===- Artifact.h - a mapped and validated llamac artifact ------*- C++ -*-===//
//
// The reader side of docs/artifact-format.md. `open` maps the file and
// validates everything a later step would otherwise trip over — header and
// its checksum, sizes, the metadata's checksum and every field, every
// section range and binding, the checksums of the tokenizer and the kernels
// — so that the runtime after it never indexes out of the file and never
// runs corrupted code. The weights' checksums are checked on request
// (`verifyWeights`): reading every weight byte costs what a page-in of the
// whole model does.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_ARTIFACT_H
#define LLAMAC_RUNTIME_ARTIFACT_ARTIFACT_H

#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/artifact/MappedFile.h"

#include "absl/status/statusor.h"

#include "absl/strings/string_view.h"
#include <functional>
#include <memory>
#include <string>

namespace llamac::runtime {

class Artifact {
public:
  /// Maps and validates the artifact at `path`. Errors are one line naming
  /// the file and the problem. A tensor-parallel artifact is opened for
  /// one rank: `weights()` is then that rank's table (docs/tensor-parallel.md).
  static absl::StatusOr<std::unique_ptr<Artifact>>
  open(const std::string &path, int64_t rank = 0);

  const std::string &path() const { return filePath; }
  const ArtifactMetadata &metadata() const { return meta; }
  const ModelInfo &model() const { return meta.model; }
  const TargetInfo &target() const { return meta.target; }
  const KVCacheInfo &kvCache() const { return meta.kvCache; }
  const std::vector<WeightInfo> &weights() const { return meta.weights; }
  /// The tensor-parallel rank this artifact was opened for (0 when it is
  /// not split).
  int64_t rank() const { return openedRank; }
  const EntryPoint *entryPoint(absl::string_view name) const {
    return meta.findEntryPoint(std::string_view(name.data(), name.size()));
  }

  /// The serialized sentencepiece model, inside the mapping.
  absl::string_view tokenizerBytes() const { return section(meta.tokenizer); }
  /// The kernels (an ELF shared object, a cubin or a HSACO), inside the
  /// mapping.
  absl::string_view kernelBytes() const { return section(meta.kernels); }
  /// The `kernels_ptx` section, or empty when there is none.
  absl::string_view kernelPtxBytes() const {
    return meta.kernelsPtx ? section(*meta.kernelsPtx) : absl::string_view();
  }

  /// Called as weights are verified: (bytes checked, total weight bytes).
  using VerifyProgress = std::function<void(uint64_t, uint64_t)>;
  /// What verifyWeights read: distinct tensors (a replicated one once) and
  /// their bytes, over every rank's table.
  struct VerifiedWeights {
    uint64_t tensors = 0;
    uint64_t bytes = 0;
  };
  /// Checks every weight tensor against its checksum (every rank's, for a
  /// tensor-parallel artifact); the error names the first that differs.
  /// `verified`, if given, says how much was checked.
  absl::Status verifyWeights(const VerifyProgress &progress = {},
                             VerifiedWeights *verified = nullptr) const;

  /// Sum of the weight tensors' sizes (this rank's table), views left out:
  /// the bytes it maps.
  uint64_t weightBytes() const;
  uint64_t fileSize() const { return file->size(); }

private:
  Artifact(std::string path, std::unique_ptr<MappedFile> file,
           ArtifactMetadata meta, int64_t rank)
      : filePath(std::move(path)), file(std::move(file)),
        meta(std::move(meta)), openedRank(rank) {}

  absl::string_view section(const SectionInfo &s) const {
    return {reinterpret_cast<const char *>(file->data()) + s.offset, s.size};
  }

  std::string filePath;
  std::unique_ptr<MappedFile> file;
  ArtifactMetadata meta;
  int64_t openedRank = 0;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_ARTIFACT_H
