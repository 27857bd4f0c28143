//===- FuzzInput.h - fuzz inputs handed to path-based readers ---*- C++ -*-===//
//
// The importers read files by path (they map them), so a fuzz target writes
// each input into an anonymous in-memory file (memfd) and passes its
// /proc/self/fd path: no disk traffic, nothing left behind, and the reader
// sees a regular file just as it would a checkpoint.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_FUZZ_FUZZINPUT_H
#define LLAMAC_TEST_FUZZ_FUZZINPUT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llamac::fuzz {

/// One reusable in-memory file. Aborts if it cannot be created or written:
/// that is a broken harness, not a finding.
class InMemoryFile {
public:
  explicit InMemoryFile(const char *name);
  ~InMemoryFile();
  InMemoryFile(const InMemoryFile &) = delete;
  InMemoryFile &operator=(const InMemoryFile &) = delete;

  /// Replaces the file's contents with `bytes` and returns its path.
  const std::string &write(std::string_view bytes);
  const std::string &write(const uint8_t *data, size_t size) {
    return write(std::string_view(reinterpret_cast<const char *>(data), size));
  }

  /// Writes `bytes` at `offset`, leaving the rest of the file as it is.
  void writeAt(uint64_t offset, std::string_view bytes);
  /// Cuts or extends (with zeros) the file to `size` bytes.
  void resize(uint64_t size);

  const std::string &path() const { return filePath; }

private:
  int fd = -1;
  std::string filePath;
};

/// Reads a whole file; aborts with a message naming it if that fails.
std::string readFileOrDie(const std::string &path);

/// Aborts with `message` when `condition` is false: an oracle failure that
/// libFuzzer reports as a crash with the input that caused it.
void require(bool condition, std::string_view message);

/// The value of environment variable `name`; aborts if it is unset.
std::string requiredEnv(const char *name);

} // namespace llamac::fuzz

#endif // LLAMAC_TEST_FUZZ_FUZZINPUT_H
