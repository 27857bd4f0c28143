//===- InputFile.h - reading files a user names, safely ---------*- C++ -*-===//
//
// Every file the compiler reads (config, safetensors, llama2.c .bin,
// tokenizer) comes through here. Only regular files are read: a FIFO would
// block the compile forever and a device such as /dev/zero never ends, so
// both are refused without reading a byte. Files too large for their role
// (a multi-gigabyte "config.json") are refused before they are read.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SUPPORT_INPUTFILE_H
#define LLAMAC_COMPILER_SUPPORT_INPUTFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <limits>
#include <memory>

namespace llamac {

/// The largest JSON file (config.json, generation_config.json, a shard
/// index) the compiler reads: real ones are kilobytes.
inline constexpr uint64_t kMaxJsonFileBytes = uint64_t(8) << 20;

/// The largest tokenizer file: Llama 3's sentencepiece model is 2 MB.
inline constexpr uint64_t kMaxTokenizerFileBytes = uint64_t(64) << 20;

/// Opens `path` without blocking, checks that it is a regular file of at
/// most `maxBytes`, and returns its contents (memory-mapped when large; no
/// null terminator). Errors name the path: "<path>: not a regular file (a
/// FIFO)", "<path> is 9 GB, more than the 8 MiB a JSON file may have".
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInputFile(llvm::StringRef path,
              uint64_t maxBytes = std::numeric_limits<uint64_t>::max());

} // namespace llamac

#endif // LLAMAC_COMPILER_SUPPORT_INPUTFILE_H
