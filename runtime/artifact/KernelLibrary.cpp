//===- KernelLibrary.cpp - the artifact's compiled kernels ----------------===//

#include "runtime/artifact/KernelLibrary.h"
#include "runtime/artifact/ArtifactFormat.h"

#include "absl/strings/str_cat.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

namespace llamac::runtime {

namespace {

/// Whether a loaded object has the name `path`.
bool isLoadedPath(const std::string &path) {
  struct Query {
    const std::string *path;
    bool found = false;
  } query{&path};
  dl_iterate_phdr(
      [](struct dl_phdr_info *info, size_t, void *data) {
        auto *q = static_cast<Query *>(data);
        if (info->dlpi_name && *q->path == info->dlpi_name)
          q->found = true;
        return q->found ? 1 : 0;
      },
      &query);
  return query.found;
}

std::string dlerrorText() {
  const char *e = dlerror();
  return e ? e : "unknown dlopen error";
}

} // namespace

absl::StatusOr<std::unique_ptr<KernelLibrary>>
KernelLibrary::load(absl::string_view bytes, const std::string &name) {
  // Check the ELF magic first: dlopen's message for garbage is obscure.
  if (bytes.size() < 4 || std::memcmp(bytes.data(),
                                      "\x7f"
                                      "ELF",
                                      4) != 0)
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": the kernel library is not an ELF shared object"));
  int fd = memfd_create("llamac-kernels", MFD_CLOEXEC);
  if (fd < 0)
    return absl::InternalError(
        absl::StrCat(name, ": memfd_create failed: ", std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      return absl::InternalError(absl::StrCat(
          name, ": writing the kernel library failed: ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  // The dynamic loader recognises loaded objects by path: dlopen of a path
  // an earlier library was loaded from (a descriptor number reused after
  // that library's memfd was closed, while the library itself stayed, e.g.
  // linked with -z nodelete) returns the old library. Move to a number no
  // loaded object is named after.
  while (isLoadedPath(absl::StrCat("/proc/self/fd/", fd))) {
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
    close(fd);
    if (moved < 0)
      return absl::InternalError(absl::StrCat(
          name, ": cannot duplicate the kernel library descriptor: ",
          std::strerror(errno)));
    fd = moved;
  }
  std::string fdPath = absl::StrCat("/proc/self/fd/", fd);
  // RTLD_LOCAL: two artifacts (target and draft) export the same kernel
  // names and must not resolve into each other.
  void *handle = dlopen(fdPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::string error = dlerrorText();
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": cannot load the kernel library: ", error));
  }
  // The descriptor stays open as long as the library is loaded, so that no
  // other library is loaded under the same /proc/self/fd path meanwhile.
  return std::unique_ptr<KernelLibrary>(new KernelLibrary(handle, name, fd));
}

absl::StatusOr<std::unique_ptr<KernelLibrary>>
KernelLibrary::loadFile(const std::string &path) {
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": cannot load the kernel library: ", dlerrorText()));
  return std::unique_ptr<KernelLibrary>(new KernelLibrary(handle, path, -1));
}

KernelLibrary::~KernelLibrary() {
  dlclose(handle);
  if (fd >= 0)
    close(fd);
}

absl::StatusOr<PackedKernelFn>
KernelLibrary::lookup(absl::string_view kernel) const {
  std::string symbol = absl::StrCat(kernel, artifact::kPackedSuffix);
  dlerror();
  void *fn = dlsym(handle, symbol.c_str());
  if (!fn)
    return absl::NotFoundError(
        absl::StrCat(name, ": the kernel library has no symbol ", symbol,
                     " (kernel '", kernel, "' is used by the schedule)"));
  return reinterpret_cast<PackedKernelFn>(fn);
}

std::optional<std::string>
KernelLibrary::signature(absl::string_view kernel) const {
  dlerror();
  if (!dlsym(handle, artifact::kSignaturesMarker))
    return std::nullopt;
  std::string symbol = absl::StrCat(kernel, artifact::kSignatureSuffix);
  const char *text = static_cast<const char *>(dlsym(handle, symbol.c_str()));
  if (!text)
    return "";
  // The library passed its checksum, so the string ends; the bound only
  // keeps a miscompiled one from running on.
  return std::string(text, strnlen(text, 4096));
}

} // namespace llamac::runtime
