//===- Device.cpp - checks every driver shares ----------------------------===//

#include "runtime/hal/Device.h"

#include "absl/strings/str_cat.h"

namespace llamac::hal {

absl::Status checkCopyRange(uint64_t size, uint64_t offset, uint64_t bytes) {
  uint64_t end;
  if (__builtin_add_overflow(offset, bytes, &end) || end > size)
    return absl::OutOfRangeError(
        absl::StrCat("copy of [", offset, ", +", bytes,
                     ") lies outside a buffer of ", size, " bytes"));
  return absl::OkStatus();
}

} // namespace llamac::hal
