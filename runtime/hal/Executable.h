//===- Executable.h - a device's loaded kernels -----------------*- C++ -*-===//
//
// The artifact's `kernels` section loaded onto one device: an ELF shared
// object dlopen'ed by the CPU driver, a cubin/PTX or HSACO module by the
// CUDA and HIP drivers. Binding a schedule resolves every kernel name here
// once; the replay then only uses the handles.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_EXECUTABLE_H
#define LLAMAC_RUNTIME_HAL_EXECUTABLE_H

#include "runtime/hal/Program.h"

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <optional>
#include <string>

namespace llamac::hal {

/// The code a device loads, as the artifact holds it.
struct ExecutableSource {
  /// The artifact's `kernels.format`: "elf-shared-object", "cubin", "hsaco".
  std::string format;
  absl::string_view code;
  /// `kernels_ptx` (NVVM): JIT-compiled when the GPU cannot load `code`.
  absl::string_view ptx;
  /// The artifact's path, for error messages.
  std::string name;
  /// CPU: look up `<kernel><variantSuffix>` first, the kernel itself where
  /// the library has no such variant ("_amx" where the CPU has AMX).
  std::string variantSuffix;
};

/// One kernel on its device: a host function (CPU) or a device function
/// handle (CUfunction / hipFunction_t).
struct KernelHandle {
  KernelFn hostFn = nullptr;
  void *deviceFunction = nullptr;
};

class Executable {
public:
  virtual ~Executable() = default;
  /// The kernel called `kernel`; an error naming it when the code has none.
  virtual absl::StatusOr<KernelHandle> lookup(absl::string_view kernel) const = 0;
  /// The arguments the code says `kernel` takes
  /// (runtime/artifact/KernelSignature.h): "" when it says nothing for that
  /// kernel, nullopt when this kind of code object records no signatures
  /// (GPU code objects).
  virtual std::optional<std::string> signature(absl::string_view kernel) const {
    return std::nullopt;
  }
};

} // namespace llamac::hal

#endif // LLAMAC_RUNTIME_HAL_EXECUTABLE_H
