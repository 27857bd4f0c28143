//===- TempDir.cpp - scratch directories for tests ------------------------===//

#include "test/unit/TempDir.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace llamac::testing {

TempDir::TempDir() {
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createUniqueDirectory("llamac-test", path)) {
    llvm::errs() << "cannot create a temporary directory\n";
    std::abort();
  }
  dir = std::string(path);
}

TempDir::~TempDir() { llvm::sys::fs::remove_directories(dir); }

std::string TempDir::file(llvm::StringRef name) const {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

std::string TempDir::write(llvm::StringRef name, llvm::StringRef bytes) const {
  std::string path = file(name);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec) {
    llvm::errs() << "cannot write " << path << ": " << ec.message() << "\n";
    std::abort();
  }
  out << bytes;
  return path;
}

std::string TempDir::copy(llvm::StringRef source, llvm::StringRef name) const {
  std::string path = file(name);
  if (std::error_code ec = llvm::sys::fs::copy_file(source, path)) {
    llvm::errs() << "cannot copy " << source << ": " << ec.message() << "\n";
    std::abort();
  }
  return path;
}

} // namespace llamac::testing
