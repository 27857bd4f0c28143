//===- KernelLibrary.h - the artifact's compiled kernels --------*- C++ -*-===//
//
// The `kernels` section of a CPU artifact is an ELF shared object. It is
// loaded from memory (memfd + dlopen of /proc/self/fd/N), so nothing is
// written to disk and nothing is left behind.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_KERNELLIBRARY_H
#define LLAMAC_RUNTIME_ARTIFACT_KERNELLIBRARY_H

#include "absl/status/statusor.h"

#include "absl/strings/string_view.h"
#include <memory>
#include <optional>
#include <string>

namespace llamac::runtime {

/// The one signature every kernel is called through: `args[i]` points to
/// the i-th argument (bindings' base pointers, scalars, then begin/end).
using PackedKernelFn = void (*)(void **args);

/// A dlopen'ed kernel library; dlclose'd on destruction.
class KernelLibrary {
public:
  /// Loads the shared object in `bytes`; `name` (the artifact's path) is
  /// used in error messages.
  static absl::StatusOr<std::unique_ptr<KernelLibrary>>
  load(absl::string_view bytes, const std::string &name);

  /// Loads a shared object from a file (tests).
  static absl::StatusOr<std::unique_ptr<KernelLibrary>>
  loadFile(const std::string &path);

  ~KernelLibrary();
  KernelLibrary(const KernelLibrary &) = delete;
  KernelLibrary &operator=(const KernelLibrary &) = delete;

  /// Resolves `<kernel>_packed`.
  absl::StatusOr<PackedKernelFn> lookup(absl::string_view kernel) const;
  /// The string `<kernel>_signature` (KernelSignature.h); "" when the
  /// library has none for `kernel`; nullopt when it records no signatures
  /// at all (no `llamac_kernel_signatures` symbol: not made by llamac).
  std::optional<std::string> signature(absl::string_view kernel) const;

private:
  KernelLibrary(void *handle, std::string name, int fd)
      : handle(handle), name(std::move(name)), fd(fd) {}
  void *handle;
  std::string name;
  /// The memfd the library was loaded from, or -1.
  int fd;
};

} // namespace llamac::runtime

#endif // LLAMAC_RUNTIME_ARTIFACT_KERNELLIBRARY_H
