//===- InputFile.cpp - reading files a user names, safely -----------------===//

#include "compiler/support/InputFile.h"

#include "compiler/support/FileKind.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llamac {

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInputFile(llvm::StringRef path, uint64_t maxBytes) {
  std::string name = path.str();
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer. It changes nothing for a regular file.
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return llvm::createStringError(
        llvm::formatv("cannot open {0}: {1}", path, std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    return llvm::createStringError(
        llvm::formatv("cannot read {0}: {1}", path, std::strerror(error)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return llvm::createStringError(llvm::formatv(
        "{0}: not a regular file ({1})", path, describeFileType(st.st_mode)));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > maxBytes) {
    ::close(fd);
    return llvm::createStringError(
        llvm::formatv("{0} is {1} bytes, more than the {2} bytes this file "
                      "may have",
                      path, size, maxBytes));
  }
  auto buffer = llvm::MemoryBuffer::getOpenFile(
      llvm::sys::fs::convertFDToNativeFile(fd), path, size,
      /*RequiresNullTerminator=*/false);
  ::close(fd);
  if (!buffer)
    return llvm::createStringError(llvm::formatv(
        "cannot read {0}: {1}", path, buffer.getError().message()));
  return std::move(*buffer);
}

} // namespace llamac
