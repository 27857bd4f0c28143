//===- SafetensorsFuzzer.cpp - fuzz the safetensors reader ----------------===//
//
// Input: the bytes of a .safetensors file. A file the reader accepts must
// describe tensors that lie inside it with exactly the bytes their shape and
// dtype need; anything else must be an error, never a crash.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Safetensors.h"
#include "test/fuzz/FuzzInput.h"

using namespace llamac;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz::InMemoryFile file("model.safetensors");
  auto opened = SafetensorsFile::open(file.write(data, size));
  if (!opened) {
    fuzz::require(!llvm::toString(opened.takeError()).empty(),
                  "an error without a message");
    return 0;
  }
  llvm::StringRef mapped = (*opened)->mapping()->getBuffer();
  for (const SafetensorsTensor &tensor : (*opened)->tensors()) {
    fuzz::require(tensor.data.empty() ||
                      (tensor.data.begin() >= mapped.bytes_begin() &&
                       tensor.data.end() <= mapped.bytes_end()),
                  "an accepted tensor lies outside the file");
    fuzz::require(tensor.elementSize > 0 &&
                      (!tensor.dtype || dtypeSize(*tensor.dtype) == tensor.elementSize),
                  "an accepted tensor's element size is not its dtype's");
    uint64_t bytes = tensor.elementSize;
    for (int64_t dim : tensor.shape)
      bytes *= static_cast<uint64_t>(dim); // the reader checked overflow
    fuzz::require(bytes == tensor.data.size(),
                  "an accepted tensor's size disagrees with its shape");
    fuzz::require((*opened)->lookup(tensor.name) == &tensor,
                  "lookup does not find an accepted tensor");
  }
  return 0;
}
