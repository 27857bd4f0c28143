//===- MappedFile.cpp - a read-only file mapping --------------------------===//

#include "runtime/artifact/MappedFile.h"

#include "absl/strings/str_cat.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llamac::runtime {

absl::StatusOr<std::unique_ptr<MappedFile>>
MappedFile::open(const std::string &path) {
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer; it is
  // refused below instead. Nothing changes for a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return absl::InternalError(
        absl::StrCat("cannot stat ", path, ": ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    // mmap refuses a length of 0; an empty file is simply too small.
    return std::unique_ptr<MappedFile>(new MappedFile(nullptr, 0));
  }
  void *base = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  // The mapping keeps the file alive; the descriptor is no longer needed.
  ::close(fd);
  if (base == MAP_FAILED)
    return absl::InternalError(
        absl::StrCat("cannot map ", path, ": ", std::strerror(err)));
  return std::unique_ptr<MappedFile>(
      new MappedFile(static_cast<const uint8_t *>(base), size));
}

MappedFile::~MappedFile() {
  if (base)
    munmap(const_cast<uint8_t *>(base), length);
}

} // namespace llamac::runtime
