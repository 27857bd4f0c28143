//===- OutputFile.cpp - writing a file without losing data ----------------===//

#include "compiler/support/OutputFile.h"

#include "compiler/support/FileKind.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llamac {

llvm::Error checkOutputPath(llvm::StringRef path,
                            llvm::ArrayRef<std::string> inputs) {
  // "-" means standard output to most tools; an artifact is written in
  // place (offsets patched after its sections), which a pipe cannot take,
  // and a file named "-" is never what was meant.
  if (path == "-")
    return llvm::createStringError(
        "cannot write to standard output ('-'): give the path of a file to write");
  std::string name = path.str();
  struct stat out;
  if (::stat(name.c_str(), &out) != 0) {
    if (errno == ENOENT)
      return llvm::Error::success();
    return llvm::createStringError(
        llvm::formatv("cannot write {0}: {1}", path, std::strerror(errno)));
  }
  if (!S_ISREG(out.st_mode))
    return llvm::createStringError(
        llvm::formatv("refusing to write {0}: it is {1}, not a regular file",
                      path, describeFileType(out.st_mode)));
  for (const std::string &input : inputs) {
    struct stat in;
    if (::stat(input.c_str(), &in) == 0 && in.st_dev == out.st_dev &&
        in.st_ino == out.st_ino)
      return llvm::createStringError(llvm::formatv(
          "refusing to write {0}: it is the input file {1}, which writing "
          "would destroy",
          path, input));
  }
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<OutputFile>>
OutputFile::create(llvm::StringRef path, llvm::ArrayRef<std::string> inputs) {
  if (llvm::Error err = checkOutputPath(path, inputs))
    return std::move(err);
  std::unique_ptr<OutputFile> file(new OutputFile());
  file->finalPath = path.str();
  file->inputs.assign(inputs.begin(), inputs.end());
  // An output that is a symbolic link is written where it leads, as open()
  // would: renaming over the link would replace the link itself (a link to
  // /proc/self/fd/1 once became a regular file).
  file->renamedPath = file->finalPath;
  struct stat link;
  if (::lstat(file->finalPath.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    char *target = ::realpath(file->finalPath.c_str(), nullptr);
    if (!target)
      return llvm::createStringError(llvm::formatv(
          "cannot write {0}: it is a symbolic link that leads nowhere ({1})",
          path, std::strerror(errno)));
    file->renamedPath = target;
    std::free(target);
  }
  // Beside the output, so that the rename stays within one file system;
  // hidden, so that a listing during a long compile shows no half file.
  llvm::StringRef renamed = file->renamedPath;
  llvm::SmallString<256> model(llvm::sys::path::parent_path(renamed));
  llvm::sys::path::append(model, "." + llvm::sys::path::filename(renamed) +
                                     ".tmp-%%%%%%%%%%%%");
  llvm::SmallString<256> temp;
  // O_CREAT | O_EXCL under a random name: never follows a planted symlink,
  // never shares its temporary with a concurrent writer.
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(model, file->fd, temp))
    return llvm::createStringError(
        llvm::formatv("cannot write {0}: cannot create a temporary file in "
                      "its directory: {1}",
                      path, ec.message()));
  file->tempPath = std::string(temp);
  // An interrupt (Ctrl-C, SIGTERM) removes the partial file.
  llvm::sys::RemoveFileOnSignal(file->tempPath);
  return file;
}

OutputFile::~OutputFile() { discard(); }

void OutputFile::discard() {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
  if (!committed && !tempPath.empty()) {
    ::unlink(tempPath.c_str());
    llvm::sys::DontRemoveFileOnSignal(tempPath);
    tempPath.clear();
  }
}

llvm::Error OutputFile::ioError(int error) const {
  return llvm::createStringError(llvm::formatv("cannot write {0}: {1}",
                                               finalPath, std::strerror(error)));
}

/// Writes all `size` bytes at `offset` (pwrite), or at the file position
/// when `offset` is negative; returns 0 or the errno that stopped it.
static int writeAll(int fd, const char *cursor, uint64_t size, off_t offset) {
  while (size > 0) {
    // Linux writes at most about 2 GiB per call.
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(size, 1u << 30));
    ssize_t n = offset < 0 ? ::write(fd, cursor, chunk) : ::pwrite(fd, cursor, chunk, offset);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? errno : EIO;
    cursor += n;
    size -= static_cast<uint64_t>(n);
    if (offset >= 0)
      offset += n;
  }
  return 0;
}

llvm::Error OutputFile::write(const void *data, uint64_t size) {
  if (fd < 0)
    return ioError(EBADF);
  if (int error = writeAll(fd, static_cast<const char *>(data), size, -1))
    return ioError(error);
  written += size;
  return llvm::Error::success();
}

llvm::Error OutputFile::overwrite(uint64_t offset, const void *data,
                                  uint64_t size) {
  if (fd < 0)
    return ioError(EBADF);
  if (offset > written || size > written - offset)
    return llvm::createStringError(llvm::formatv(
        "internal error: overwriting [{0}, +{1}) of {2}, which has {3} bytes",
        offset, size, finalPath, written));
  if (int error = writeAll(fd, static_cast<const char *>(data), size,
                           static_cast<off_t>(offset)))
    return ioError(error);
  return llvm::Error::success();
}

llvm::Error OutputFile::padTo(uint64_t offset) {
  static const char zeros[4096] = {};
  if (offset < written)
    return llvm::createStringError(llvm::formatv(
        "internal error: {0}: padding to offset {1} behind position {2}",
        finalPath, offset, written));
  while (written < offset)
    if (llvm::Error err =
            write(zeros, std::min<uint64_t>(sizeof(zeros), offset - written)))
      return err;
  return llvm::Error::success();
}

llvm::Error OutputFile::extendTo(uint64_t offset) {
  if (fd < 0)
    return ioError(EBADF);
  if (offset < written)
    return llvm::createStringError(llvm::formatv(
        "internal error: {0}: extending to offset {1} behind position {2}",
        finalPath, offset, written));
  int result;
  do
    result = ::ftruncate(fd, static_cast<off_t>(offset));
  while (result < 0 && errno == EINTR);
  if (result < 0)
    return ioError(errno);
  // Appends go after the new end.
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0)
    return ioError(errno);
  written = offset;
  return llvm::Error::success();
}

llvm::Error OutputFile::commit() {
  if (fd < 0)
    return ioError(EBADF);
  // Data the kernel has not written yet can still fail (ENOSPC on a thin
  // volume, EIO); find out before the old output is replaced.
  if (::fsync(fd) != 0)
    return ioError(errno);
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0)
    return ioError(errno);
  if (llvm::Error err = checkOutputPath(finalPath, inputs))
    return err;
  if (::rename(tempPath.c_str(), renamedPath.c_str()) != 0)
    return llvm::createStringError(
        llvm::formatv("cannot write {0}: cannot rename {1} to it: {2}",
                      finalPath, tempPath, std::strerror(errno)));
  committed = true;
  llvm::sys::DontRemoveFileOnSignal(tempPath);
  // Make the rename itself durable. Some file systems cannot sync a
  // directory; the data is safe either way, so this is best effort.
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(renamedPath));
  if (dir.empty())
    dir = ".";
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    (void)::fsync(dirFd);
    ::close(dirFd);
  }
  return llvm::Error::success();
}

llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef contents,
                                llvm::ArrayRef<std::string> inputs) {
  auto file = OutputFile::create(path, inputs);
  if (!file)
    return file.takeError();
  if (llvm::Error err = (*file)->write(contents))
    return err;
  return (*file)->commit();
}

} // namespace llamac
