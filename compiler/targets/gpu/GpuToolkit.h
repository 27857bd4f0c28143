//===- GpuToolkit.h - where the vendors' compile-time pieces are -*- C++ -*-===//

#ifndef LLAMAC_COMPILER_TARGETS_GPU_GPUTOOLKIT_H
#define LLAMAC_COMPILER_TARGETS_GPU_GPUTOOLKIT_H

#include "llvm/Support/Error.h"

#include <string>

namespace llamac {

/// The CUDA toolkit directory holding bin/ptxas and libdevice: `preferred`,
/// else $CUDA_HOME, $CUDA_PATH, /usr/local/cuda. MLIR's serializer must
/// always be given it: without one it silently leaves libdevice calls
/// unresolved in the PTX.
llvm::Expected<std::string> findCudaToolkit(const std::string &preferred);

/// A temporary directory laid out as MLIR's ROCDL serializer expects a ROCm
/// install (amdgcn/bitcode from Debian's rocm-device-libs, llvm/bin/ld.lld
/// from lld-22); removed when destroyed.
class RocmToolkitDir {
public:
  static llvm::Expected<RocmToolkitDir> create();
  RocmToolkitDir(RocmToolkitDir &&other) noexcept;
  RocmToolkitDir &operator=(RocmToolkitDir &&) = delete;
  ~RocmToolkitDir();
  const std::string &path() const { return dir; }

private:
  explicit RocmToolkitDir(std::string dir) : dir(std::move(dir)) {}
  std::string dir;
};

} // namespace llamac

#endif // LLAMAC_COMPILER_TARGETS_GPU_GPUTOOLKIT_H
