//===- Checksum.cpp - XXH3-64 checksums of artifact bytes -----------------===//

#include "runtime/artifact/Checksum.h"

#include <xxhash.h>

#include <cstring>

namespace llamac::artifact {

uint64_t checksum(const void *data, size_t size) {
  return XXH3_64bits(data, size);
}

uint64_t headerChecksum(const Header &header) {
  Header copy;
  std::memcpy(&copy, &header, sizeof(copy));
  copy.headerChecksum = 0;
  return XXH3_64bits(&copy, sizeof(copy));
}

// xxhash's state is opaque without XXH_STATIC_LINKING_ONLY: allocated by
// the library.
struct StreamingChecksum::State {
  XXH3_state_t *xxh = XXH3_createState();
  ~State() { XXH3_freeState(xxh); }
};

StreamingChecksum::StreamingChecksum() : state(std::make_unique<State>()) {
  XXH3_64bits_reset(state->xxh);
}
StreamingChecksum::~StreamingChecksum() = default;

void StreamingChecksum::update(const void *data, size_t size) {
  XXH3_64bits_update(state->xxh, data, size);
}

uint64_t StreamingChecksum::digest() const {
  return XXH3_64bits_digest(state->xxh);
}

std::string checksumHex(uint64_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4)
    text[i] = digits[value & 0xf];
  return text;
}

std::optional<uint64_t> parseChecksumHex(std::string_view text) {
  if (text.size() != 16)
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
    if (digit < 0)
      return std::nullopt;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  return value;
}

} // namespace llamac::artifact
