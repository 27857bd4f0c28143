//===- GpuToolkit.cpp - where the vendors' compile-time pieces are --------===//

#include "compiler/targets/gpu/GpuToolkit.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

namespace llamac {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

// Debian's locations (rocm-device-libs, lld-22).
constexpr const char *kAmdgcnBitcode = "/usr/lib/x86_64-linux-gnu/amdgcn";
constexpr const char *kLld = "/usr/lib/llvm-22/bin/ld.lld";

} // namespace

llvm::Expected<std::string> findCudaToolkit(const std::string &preferred) {
  std::vector<std::string> candidates;
  if (!preferred.empty())
    candidates.push_back(preferred);
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(var); value && *value)
      candidates.push_back(value);
  candidates.push_back("/usr/local/cuda");
  for (const std::string &dir : candidates) {
    llvm::SmallString<256> ptxas(dir);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(ptxas))
      return dir;
    if (!preferred.empty())
      break; // an explicit choice that lacks ptxas is an error, not a hint
  }
  return makeError("--target nvvm needs the CUDA toolkit's ptxas (looked in " +
                   llvm::Twine(preferred.empty() ? "$CUDA_HOME, $CUDA_PATH, /usr/local/cuda"
                                                 : preferred) +
                   "); install it or set CUDA_HOME");
}

llvm::Expected<RocmToolkitDir> RocmToolkitDir::create() {
  llvm::SmallString<256> ockl(kAmdgcnBitcode);
  llvm::sys::path::append(ockl, "bitcode", "ockl.bc");
  if (!llvm::sys::fs::exists(ockl))
    return makeError("--target rocdl needs the AMD device libraries (" + llvm::Twine(ockl) +
                     " is missing); install Debian's rocm-device-libs");
  if (!llvm::sys::fs::can_execute(kLld))
    return makeError("--target rocdl needs " + llvm::Twine(kLld) + "; install lld-22");
  llvm::SmallString<256> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("llamac-rocm", dir))
    return makeError("cannot create a temporary directory: " + ec.message());
  RocmToolkitDir toolkit(dir.str().str());
  llvm::SmallString<256> bin(dir);
  llvm::sys::path::append(bin, "llvm", "bin");
  llvm::SmallString<256> amdgcn(dir), lld(bin);
  llvm::sys::path::append(amdgcn, "amdgcn");
  llvm::sys::path::append(lld, "ld.lld");
  if (auto ec = llvm::sys::fs::create_directories(bin))
    return makeError("cannot create " + bin + ": " + ec.message());
  if (auto ec = llvm::sys::fs::create_link(kAmdgcnBitcode, amdgcn))
    return makeError("cannot link " + amdgcn + ": " + ec.message());
  if (auto ec = llvm::sys::fs::create_link(kLld, lld))
    return makeError("cannot link " + lld + ": " + ec.message());
  return toolkit;
}

RocmToolkitDir::RocmToolkitDir(RocmToolkitDir &&other) noexcept : dir(std::move(other.dir)) {
  other.dir.clear();
}

RocmToolkitDir::~RocmToolkitDir() {
  if (!dir.empty())
    (void)llvm::sys::fs::remove_directories(dir);
}

} // namespace llamac
