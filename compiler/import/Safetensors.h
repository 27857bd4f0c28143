//===- Safetensors.h - memory-mapped safetensors files ----------*- C++ -*-===//
//
// Reads the safetensors format (an 8-byte little-endian header length N, N
// bytes of JSON describing each tensor, then the raw data) straight from a
// memory mapping: opening a 14 GB checkpoint reads its header, not its
// weights. The header is validated completely before anything is trusted,
// because every later read indexes mapped memory with its offsets.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_IMPORT_SAFETENSORS_H
#define LLAMAC_COMPILER_IMPORT_SAFETENSORS_H

#include "compiler/import/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llamac {

/// The largest header the reader accepts: the safetensors library's own
/// limit (a real 405B-parameter shard's header is well under 1 MB).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

/// safetensors' name for one of our dtypes ("F32", "F16", "BF16"); the
/// inverse of what the reader accepts.
llvm::StringRef safetensorsDTypeName(DType dtype);

/// One tensor of a safetensors file, pointing into the file's mapping.
struct SafetensorsTensor {
  std::string name;
  /// std::nullopt for a safetensors dtype no weight has (I64, BOOL, F64,
  /// F8_*, ...): a file may hold such a tensor beside its weights (an I64
  /// `position_ids` buffer), which is ignored unless a weight maps to it.
  std::optional<DType> dtype;
  std::string dtypeName; ///< as the header spells it ("BF16", "I64")
  uint64_t elementSize = 0;
  std::vector<int64_t> shape;
  /// The tensor's bytes inside the mapping (row-major, little-endian).
  llvm::ArrayRef<uint8_t> data;
};

/// A validated, memory-mapped `.safetensors` file.
class SafetensorsFile {
public:
  /// Maps `path` (a regular file) and validates its header: size of the
  /// file and of the header, JSON syntax, entry structure, dtype (F32, F16
  /// and BF16 only), that each tensor's byte range matches its shape, starts
  /// at a multiple of its element size and lies inside the data area, and
  /// that the tensors cover the data area exactly (no holes, no overlaps,
  /// nothing after the last). `__metadata__` is ignored.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  open(llvm::StringRef path);

  llvm::StringRef path() const { return filePath; }

  /// The tensor called `name`, or nullptr.
  const SafetensorsTensor *lookup(llvm::StringRef name) const;

  /// All tensors, in the order of their data in the file.
  llvm::ArrayRef<SafetensorsTensor> tensors() const { return tensorList; }

  /// The mapping that the tensors' data points into; share it to keep the
  /// data alive after this object is gone.
  std::shared_ptr<const llvm::MemoryBuffer> mapping() const { return buffer; }

private:
  SafetensorsFile() = default;

  std::string filePath;
  std::shared_ptr<const llvm::MemoryBuffer> buffer;
  std::vector<SafetensorsTensor> tensorList;
  llvm::StringMap<size_t> tensorIndex;
};

/// The tensors of a checkpoint stored as one safetensors file or as shards
/// listed by a `model.safetensors.index.json`.
class SafetensorsCheckpoint {
public:
  /// Opens a single `.safetensors` file.
  static llvm::Expected<SafetensorsCheckpoint> openFile(llvm::StringRef path);

  /// Opens the shards named by an index file (`weight_map`: tensor name ->
  /// shard file, relative to the index), each shard once, and checks that
  /// every listed tensor is in the shard the index names.
  static llvm::Expected<SafetensorsCheckpoint>
  openIndex(llvm::StringRef indexPath);

  /// Opens `dir/model.safetensors.index.json` if it exists, else
  /// `dir/model.safetensors`.
  static llvm::Expected<SafetensorsCheckpoint>
  openDirectory(llvm::StringRef dir);

  /// A tensor of any shard, with the file that holds it.
  struct Located {
    const SafetensorsTensor *tensor = nullptr;
    const SafetensorsFile *file = nullptr;
  };

  /// The tensor called `name`; `tensor` is nullptr if there is none.
  Located lookup(llvm::StringRef name) const;

  /// Every tensor, shard by shard in file order.
  std::vector<Located> allTensors() const;

  llvm::ArrayRef<std::unique_ptr<SafetensorsFile>> files() const {
    return shards;
  }

  /// What to name in messages: the single file, or the index.
  llvm::StringRef description() const { return origin; }

private:
  std::string origin;
  std::vector<std::unique_ptr<SafetensorsFile>> shards;
  /// Tensor name -> shard index.
  llvm::StringMap<size_t> shardOf;
};

} // namespace llamac

#endif // LLAMAC_COMPILER_IMPORT_SAFETENSORS_H
