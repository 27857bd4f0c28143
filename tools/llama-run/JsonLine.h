//===- JsonLine.h - one JSON object per line on stdout -----------*- C++ -*-===//

#ifndef LLAMAC_TOOLS_LLAMA_RUN_JSONLINE_H
#define LLAMAC_TOOLS_LLAMA_RUN_JSONLINE_H

#include <nlohmann/json.hpp>

#include <string>

namespace llamac::tools {

/// `value` as one line of `--json` output. Text that is not valid UTF-8
/// (generated text ending inside a character, whose bytes the model chose;
/// a path in another encoding) becomes U+FFFD: dump() would throw, and the
/// run's result would be lost at its very end. `Json` keeps an
/// nlohmann::ordered_json's key order (bench's report); a braced list is a
/// nlohmann::json.
template <class Json = nlohmann::json> std::string jsonLine(const Json &value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace llamac::tools

#endif // LLAMAC_TOOLS_LLAMA_RUN_JSONLINE_H
