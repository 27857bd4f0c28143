//===- Checksum.h - XXH3-64 checksums of artifact bytes ---------*- C++ -*-===//
//
// Every part of an artifact carries an XXH3-64 checksum (docs/artifact-
// format.md, "Checksums and the trust model"): the header its own, the
// metadata in the header, each section and each weight tensor in the
// metadata, written as 16 hex digits. Shared by the writer and the reader.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_CHECKSUM_H
#define LLAMAC_RUNTIME_ARTIFACT_CHECKSUM_H

#include "runtime/artifact/ArtifactFormat.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace llamac::artifact {

/// XXH3-64 of `size` bytes at `data`.
uint64_t checksum(const void *data, size_t size);

/// The header's checksum: XXH3-64 of its 64 bytes with `headerChecksum`
/// read as zero.
uint64_t headerChecksum(const Header &header);

/// XXH3-64 of bytes fed in pieces (weights streamed while they are written).
class StreamingChecksum {
public:
  StreamingChecksum();
  ~StreamingChecksum();
  StreamingChecksum(const StreamingChecksum &) = delete;
  StreamingChecksum &operator=(const StreamingChecksum &) = delete;
  void update(const void *data, size_t size);
  uint64_t digest() const;

private:
  struct State;
  std::unique_ptr<State> state;
};

/// The metadata's spelling: 16 lower-case hex digits.
std::string checksumHex(uint64_t value);
/// Parses checksumHex's spelling (exactly 16 hex digits), or nullopt.
std::optional<uint64_t> parseChecksumHex(std::string_view text);

} // namespace llamac::artifact

#endif // LLAMAC_RUNTIME_ARTIFACT_CHECKSUM_H
