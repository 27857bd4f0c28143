//===- MappedFile.h - a read-only file mapping ------------------*- C++ -*-===//
//
// The artifact is mapped, not read: loading a 7B model is a page-in, and the
// weights are used in place by the kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_MAPPEDFILE_H
#define LLAMAC_RUNTIME_ARTIFACT_MAPPEDFILE_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llamac::runtime {

/// A whole regular file mapped read-only (MAP_PRIVATE). Unmapped on
/// destruction.
class MappedFile {
public:
  static absl::StatusOr<std::unique_ptr<MappedFile>>
  open(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const uint8_t *data() const { return base; }
  uint64_t size() const { return length; }

private:
  MappedFile(const uint8_t *base, uint64_t length)
      : base(base), length(length) {}
  const uint8_t *base;
  uint64_t length;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_MAPPEDFILE_H
