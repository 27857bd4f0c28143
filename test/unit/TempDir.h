//===- TempDir.h - scratch directories for tests ----------------*- C++ -*-===//

#ifndef LLAMAC_TEST_UNIT_TEMPDIR_H
#define LLAMAC_TEST_UNIT_TEMPDIR_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace llamac::testing {

/// A fresh directory under the system temp dir, removed with its contents
/// when the object dies. Malformed inputs are built here at run time.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return dir; }
  /// path()/name.
  std::string file(llvm::StringRef name) const;
  /// Writes `bytes` to path()/name and returns that path.
  std::string write(llvm::StringRef name, llvm::StringRef bytes) const;
  /// Copies `source` to path()/name and returns that path.
  std::string copy(llvm::StringRef source, llvm::StringRef name) const;

private:
  std::string dir;
};

} // namespace llamac::testing

#endif // LLAMAC_TEST_UNIT_TEMPDIR_H
