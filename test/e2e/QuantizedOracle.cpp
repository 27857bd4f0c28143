//===- QuantizedOracle.cpp - the quantization schemes, for the oracle -----===//

#include "test/e2e/QuantizedOracle.h"
#include "compiler/import/DType.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <memory>
#include <vector>

namespace llamac::testing {

namespace {

float asBf16(float v) { return bf16ToFloat(floatToBF16(v)); }

/// One row, int8: symmetric, max|w| / 127.5, q in [-128, 127].
void int8Row(float *w, int64_t k) {
  float amax = 0;
  for (int64_t c = 0; c < k; ++c)
    amax = std::max(amax, std::fabs(w[c]));
  float scale = std::max(amax / 127.5f, FLT_EPSILON);
  float stored = asBf16(scale);
  for (int64_t c = 0; c < k; ++c)
    w[c] = std::min(127.0f, std::max(-128.0f, std::rint(w[c] / scale))) * stored;
}

/// One group of `n` weights of a row, int4, with `pad` zeros after them.
void int4Group(float *w, int64_t n, bool padded) {
  float lo = *std::min_element(w, w + n), hi = *std::max_element(w, w + n);
  if (padded) {
    lo = std::min(lo, 0.0f);
    hi = std::max(hi, 0.0f);
  }
  float scale = std::max(hi - lo, 1e-6f) / 15.0f;
  float s = asBf16(scale), z = asBf16(lo + 8.0f * scale);
  float base = asBf16(z - 8.0f * s);
  for (int64_t c = 0; c < n; ++c) {
    float q = std::min(15.0f, std::max(0.0f, std::rint((w[c] - base) / s)));
    w[c] = (q - 8.0f) * s + z;
  }
}

/// The projections, and a mixture's router and experts (each row of each
/// expert's matrix is quantized as a projection's row is).
bool isProjection(llvm::StringRef name) {
  return name == "output" || name.starts_with("layers.w") || name == "layers.router" ||
         name.starts_with("layers.experts.");
}

} // namespace

WeightStore dequantizedCopy(const WeightStore &source, OracleScheme scheme, int64_t group) {
  WeightStore copy;
  for (const WeightEntry &entry : source) {
    auto values = source.readF32(entry.name);
    if (!values) {
      llvm::consumeError(values.takeError());
      return copy;
    }
    auto data = std::make_shared<std::vector<float>>(std::move(*values));
    if (isProjection(entry.name)) {
      int64_t k = entry.shape.back();
      for (int64_t row = 0; row < entry.elementCount() / k; ++row) {
        float *w = data->data() + row * k;
        if (scheme == OracleScheme::Int8) {
          int8Row(w, k);
          continue;
        }
        for (int64_t begin = 0; begin < k; begin += group)
          int4Group(w + begin, std::min(group, k - begin), k - begin < group);
      }
    }
    WeightEntry out;
    out.name = entry.name;
    out.shape = entry.shape;
    out.parts.push_back({DType::F32,
                         llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(data->data()),
                                                 data->size() * sizeof(float)),
                         "dequantized " + entry.name});
    copy.retain(data);
    llvm::Error err = copy.add(std::move(out));
    llvm::consumeError(std::move(err));
  }
  return copy;
}

} // namespace llamac::testing
