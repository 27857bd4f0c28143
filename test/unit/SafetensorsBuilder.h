//===- SafetensorsBuilder.h - writing safetensors in tests ------*- C++ -*-===//
//
// Builds safetensors bytes from tensors (valid files for sharding and dtype
// tests) or from a hand-written header (malformed files for error tests).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_UNIT_SAFETENSORSBUILDER_H
#define LLAMAC_TEST_UNIT_SAFETENSORSBUILDER_H

#include <cstdint>
#include <string>
#include <vector>

namespace llamac::testing {

/// Accumulates tensors and writes a valid safetensors file.
class SafetensorsBuilder {
public:
  /// Appends a tensor; `bytes` must match dtype and shape (not checked, so
  /// tests can also write inconsistent files).
  void add(const std::string &name, const std::string &dtype,
           const std::vector<int64_t> &shape, const std::string &bytes);

  /// The file: header length, JSON header (space-padded to 8 bytes), data.
  std::string build() const;

private:
  struct Tensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::string bytes;
  };
  std::vector<Tensor> tensors;
};

/// A file with the given header text and `dataBytes` zero bytes of data.
std::string safetensorsWithHeader(const std::string &header, size_t dataBytes);

} // namespace llamac::testing

#endif // LLAMAC_TEST_UNIT_SAFETENSORSBUILDER_H
