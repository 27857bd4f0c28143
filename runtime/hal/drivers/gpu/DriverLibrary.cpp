//===- DriverLibrary.cpp - a vendor driver library opened at run time -----===//

#include "runtime/hal/drivers/gpu/DriverLibrary.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include <cstdlib>
#include <dlfcn.h>

namespace llamac::hal::gpu {

absl::StatusOr<std::unique_ptr<DriverLibrary>>
DriverLibrary::open(const std::vector<std::string> &names,
                    const char *environmentOverride,
                    absl::string_view missingHint) {
  std::vector<std::string> candidates = names;
  if (const char *path = std::getenv(environmentOverride); path && *path)
    candidates = {path};
  std::string firstError;
  for (const std::string &name : candidates) {
    // RTLD_LOCAL: the driver's symbols stay out of the global namespace.
    if (void *handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL))
      return std::unique_ptr<DriverLibrary>(new DriverLibrary(handle, name));
    if (firstError.empty()) {
      const char *error = dlerror();
      firstError = error ? error : "unknown dlopen error";
    }
  }
  const std::string &wanted = candidates.front();
  // "No such file" is the common case and gets the plain message; anything
  // else (wrong ELF class, missing dependency) is worth showing as is.
  if (absl::StrContains(firstError, "No such file"))
    return absl::FailedPreconditionError(
        absl::StrCat(wanted, " not found (", missingHint, ")"));
  return absl::FailedPreconditionError(
      absl::StrCat(wanted, " cannot be loaded: ", firstError));
}

DriverLibrary::~DriverLibrary() { dlclose(handle); }

absl::StatusOr<void *> DriverLibrary::lookup(const char *symbol) const {
  dlerror();
  void *address = dlsym(handle, symbol);
  if (!address)
    return absl::FailedPreconditionError(
        absl::StrCat(libraryName, " has no ", symbol,
                     " (the driver is older than this runtime needs)"));
  return address;
}

} // namespace llamac::hal::gpu
