//===- DriverLibrary.h - a vendor driver library opened at run time -*- C++ -*-===//
//
// The GPU drivers never link libcuda or libamdhip64: they dlopen them when a
// GPU device is asked for, so the runtime builds and runs on machines with
// no GPU stack, and a missing library is an error message, not a loader
// failure at start-up.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_DRIVERS_GPU_DRIVERLIBRARY_H
#define LLAMAC_RUNTIME_HAL_DRIVERS_GPU_DRIVERLIBRARY_H

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <memory>
#include <string>
#include <vector>

namespace llamac::hal::gpu {

class DriverLibrary {
public:
  /// Opens the first of `names` that loads; `environmentOverride` names an
  /// environment variable that, when set, replaces `names` with its value
  /// (a path to the library). `missingHint` ends the not-found message:
  /// "libcuda.so.1 not found (<missingHint>)".
  static absl::StatusOr<std::unique_ptr<DriverLibrary>>
  open(const std::vector<std::string> &names, const char *environmentOverride,
       absl::string_view missingHint);
  ~DriverLibrary();
  DriverLibrary(const DriverLibrary &) = delete;
  DriverLibrary &operator=(const DriverLibrary &) = delete;

  const std::string &name() const { return libraryName; }

  /// Resolves `symbol` into `*fn`; an error naming the library and symbol
  /// (an older driver than this runtime needs).
  template <typename Fn>
  absl::Status resolve(const char *symbol, Fn *fn) const {
    absl::StatusOr<void *> address = lookup(symbol);
    if (!address.ok())
      return address.status();
    *fn = reinterpret_cast<Fn>(*address);
    return absl::OkStatus();
  }

private:
  DriverLibrary(void *handle, std::string name)
      : handle(handle), libraryName(std::move(name)) {}
  absl::StatusOr<void *> lookup(const char *symbol) const;

  void *handle;
  std::string libraryName;
};

} // namespace llamac::hal::gpu

#endif // LLAMAC_RUNTIME_HAL_DRIVERS_GPU_DRIVERLIBRARY_H
