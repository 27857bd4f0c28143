//===- Utf8.h - UTF-8 validity for the tokenizer fuzz targets ---*- C++ -*-===//

#ifndef LLAMAC_TEST_FUZZ_UTF8_H
#define LLAMAC_TEST_FUZZ_UTF8_H

#include <string_view>

namespace llamac::fuzz {

/// True when `text` is valid UTF-8: shortest forms, no surrogates, nothing
/// past U+10FFFF. Written from RFC 3629's table, independently of the
/// tokenizers' own UTF-8 handling.
inline bool isValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    unsigned char lead = text[i];
    size_t length = lead < 0x80                      ? 1
                    : (lead >= 0xC2 && lead <= 0xDF) ? 2
                    : (lead >= 0xE0 && lead <= 0xEF) ? 3
                    : (lead >= 0xF0 && lead <= 0xF4) ? 4
                                                     : 0;
    if (length == 0 || i + length > text.size())
      return false;
    for (size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
        return false;
    unsigned char second = length > 1 ? text[i + 1] : 0;
    if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F) ||
        (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F))
      return false;
    i += length;
  }
  return true;
}

} // namespace llamac::fuzz

#endif // LLAMAC_TEST_FUZZ_UTF8_H
