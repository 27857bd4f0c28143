//===- OutputFile.h - writing a file without losing data --------*- C++ -*-===//
//
// The one way the compiler writes a file (artifacts, synthetic checkpoints).
// Nothing that exists is harmed until the new file is complete:
//
//  - the output may not be one of the inputs (same device and inode, so a
//    hard link or a symlink to the checkpoint counts) and, if it exists,
//    must be a regular file: writing "over" /dev/null, a FIFO or a
//    directory is refused, not replaced by a regular file;
//  - the data goes to a temporary created beside the output with O_EXCL and
//    a random name (never a predictable `<out>.tmp` that a planted symlink
//    could redirect, and never shared by two concurrent writers);
//  - commit() fsyncs it and renames it over the output; any failure before
//    that, an interrupt included, removes the temporary and leaves an
//    existing output untouched.
//
// Write errors (ENOSPC, EFBIG, EIO) come back as one line naming the
// output. With SIGXFSZ ignored (the tools do, at start), exceeding
// `ulimit -f` is EFBIG too, not a kill.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SUPPORT_OUTPUTFILE_H
#define LLAMAC_COMPILER_SUPPORT_OUTPUTFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llamac {

/// Checks that `path` may be written: if it exists it is a regular file
/// (following symlinks) and none of `inputs` is the same file. A missing
/// `path` is fine; an input that does not exist is ignored.
llvm::Error checkOutputPath(llvm::StringRef path,
                            llvm::ArrayRef<std::string> inputs = {});

/// A file being written under a temporary name, renamed into place by
/// commit(). Destroying it uncommitted removes the temporary.
class OutputFile {
public:
  /// Checks `path` (checkOutputPath) and creates the temporary beside it
  /// (beside its target when `path` is a symbolic link: the link stays).
  static llvm::Expected<std::unique_ptr<OutputFile>>
  create(llvm::StringRef path, llvm::ArrayRef<std::string> inputs = {});

  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  /// Appends `size` bytes.
  llvm::Error write(const void *data, uint64_t size);
  llvm::Error write(llvm::StringRef bytes) {
    return write(bytes.data(), bytes.size());
  }

  /// Replaces `size` bytes already written at `offset` (a header that holds
  /// checksums of what follows it).
  llvm::Error overwrite(uint64_t offset, const void *data, uint64_t size);
  /// Appends zeros up to `offset` (at or after position()).
  llvm::Error padTo(uint64_t offset);
  /// Extends the file up to `offset` (at or after position()) without
  /// writing: the new bytes read as zeros and take no disk space until
  /// overwritten, so a region can be filled in any order (the artifact's
  /// weights, several tensors computed together).
  llvm::Error extendTo(uint64_t offset);

  /// Bytes written so far.
  uint64_t position() const { return written; }

  /// Flushes the data to the disk and renames the temporary over the
  /// output, after checking the output path again (it may have changed
  /// while the data was written).
  llvm::Error commit();

  const std::string &path() const { return finalPath; }

private:
  OutputFile() = default;
  /// "cannot write <output>: <strerror(error)>".
  llvm::Error ioError(int error) const;
  void discard();

  std::string finalPath;
  /// What commit() renames the temporary to: finalPath, or where it leads
  /// when it is a symbolic link.
  std::string renamedPath;
  std::string tempPath;
  std::vector<std::string> inputs;
  int fd = -1;
  uint64_t written = 0;
  bool committed = false;
};

/// Writes `contents` to `path` through an OutputFile.
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef contents,
                                llvm::ArrayRef<std::string> inputs = {});

} // namespace llamac

#endif // LLAMAC_COMPILER_SUPPORT_OUTPUTFILE_H
