//===- FileKind.h - naming the kind of a file in messages -------*- C++ -*-===//

#ifndef LLAMAC_COMPILER_SUPPORT_FILEKIND_H
#define LLAMAC_COMPILER_SUPPORT_FILEKIND_H

#include <sys/stat.h>

namespace llamac {

/// "a directory", "a FIFO", ...: what a file that is not regular is, for
/// messages that refuse it.
inline const char *describeFileType(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISREG(mode))
    return "a regular file";
  return "not a regular file";
}

} // namespace llamac

#endif // LLAMAC_COMPILER_SUPPORT_FILEKIND_H
