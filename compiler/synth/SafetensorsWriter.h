//===- SafetensorsWriter.h - streaming safetensors output -------*- C++ -*-===//
//
// Writes a `.safetensors` file whose tensors are generated while they are
// written: the header is computed from the shapes alone, then each tensor's
// data is produced, converted and written a few MB at a time. Writing a 7B
// model needs a few MB of memory, not 14 GB.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_SYNTH_SAFETENSORSWRITER_H
#define LLAMAC_COMPILER_SYNTH_SAFETENSORSWRITER_H

#include "compiler/import/DType.h"
#include "compiler/synth/RandomInit.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace llamac {

/// One tensor of the file to write.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  TensorInit init;

  int64_t elementCount() const;
};

/// Receives (data bytes written so far, total data bytes).
using WriteProgress =
    llvm::function_ref<void(uint64_t written, uint64_t total)>;

/// The header part of the file: the 8-byte little-endian length, then the
/// JSON (tensors in the given order, stored back to back, `metadata` as
/// `__metadata__`), padded with spaces to a multiple of 8 bytes so that the
/// data, and every tensor whose offset allows it, stays aligned.
std::string
safetensorsHeader(llvm::ArrayRef<TensorSpec> tensors, DType dtype,
                  llvm::ArrayRef<std::pair<std::string, std::string>> metadata);

/// Writes the whole file at `path` through an OutputFile
/// (compiler/support): an interrupted or failed run never leaves a
/// truncated file under the real name, nor harms a file already there.
llvm::Error
writeSafetensors(llvm::StringRef path, llvm::ArrayRef<TensorSpec> tensors,
                 DType dtype,
                 llvm::ArrayRef<std::pair<std::string, std::string>> metadata,
                 WriteProgress progress = nullptr);

} // namespace llamac

#endif // LLAMAC_COMPILER_SYNTH_SAFETENSORSWRITER_H
