//===- TestArtifact.h - synthetic artifacts for runtime tests ---*- C++ -*-===//
//
// Writes artifacts in the format of docs/artifact-format.md without the
// compiler: header, sections and JSON metadata, with hooks to break them.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_RUNTIME_TESTARTIFACT_H
#define LLAMAC_TEST_RUNTIME_TESTARTIFACT_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace llamac::test {

struct TestWeight {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data; ///< f32, prod(shape) values
};

struct TestArtifact {
  /// model, target, kv_cache, entry_points (tokenizer, kernels and weights
  /// are filled in by `bytes()` from the fields below).
  nlohmann::json metadata;
  std::string tokenizer;
  std::string kernels;
  /// `kernels.format`.
  std::string kernelFormat = "elf-shared-object";
  /// When not empty, written as the `kernels_ptx` section.
  std::string kernelsPtx;
  std::vector<TestWeight> weights;
  /// Runs on the complete metadata before it is serialized and hashed.
  std::function<void(nlohmann::json &)> editMetadata;

  /// The file's bytes.
  std::string bytes() const;
  /// The metadata as `bytes()` writes it (sections placed, edits applied).
  nlohmann::json completeMetadata() const;

private:
  /// Lays the file out; the metadata is not yet appended.
  std::string layout(nlohmann::json &meta) const;
};

/// Recomputes the header's file size, metadata checksum and own checksum:
/// what a writer with a bug (or an editor of the metadata) would produce.
void resealHeader(std::string &bytes);

/// Replaces the metadata of the artifact `bytes` with `text`, resealed.
void replaceMetadata(std::string &bytes, const std::string &text);

/// A small valid artifact: one layer, vocab 16, decode and prefill entry
/// points with one dispatch each, a weight "layers.w" [1, 4] and "embed"
/// [16, 4]. Tokenizer and kernel sections hold placeholder bytes.
TestArtifact smallArtifact();

/// smallArtifact for a GPU target ("nvvm" or "rocdl"): a placeholder code
/// object in `cubin` or `hsaco` format (plus a `kernels_ptx` section for
/// nvvm) and `launch` instead of `range` on every dispatch.
TestArtifact gpuArtifact(const std::string &target);

/// A file in the temp dir, removed when this goes out of scope.
struct TempFile {
  TempFile(const std::string &name, const std::string &bytes);
  ~TempFile();
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;
  std::string path;
};

/// Reads a whole file ("" when it cannot).
std::string readFile(const std::string &path);

} // namespace llamac::test

#endif // LLAMAC_TEST_RUNTIME_TESTARTIFACT_H
