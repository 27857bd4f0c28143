//===- WeightStore.cpp - the model's named weight tensors -----------------===//

#include "compiler/import/WeightStore.h"

#include "compiler/import/ModelConfig.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

using llvm::StringRef;

namespace llamac {

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      text += ", ";
    text += std::to_string(dim);
  }
  return text + "]";
}

int64_t WeightEntry::elementCount() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

void WeightStore::retain(std::shared_ptr<const void> backing) {
  backings.push_back(std::move(backing));
}

void WeightStore::retainMapping(
    std::shared_ptr<const llvm::MemoryBuffer> mapping) {
  // Small files are read into the heap instead; those pages are the only
  // copy of the data and must stay.
  if (mapping->getBufferKind() == llvm::MemoryBuffer::MemoryBuffer_MMap) {
    llvm::StringRef bytes = mapping->getBuffer();
    mappedRegions.emplace_back(
        reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  }
  backings.push_back(std::move(mapping));
}

void WeightStore::releaseSourcePages(llvm::ArrayRef<uint8_t> source) const {
  const uint8_t *begin = source.data(), *end = begin + source.size();
  for (llvm::ArrayRef<uint8_t> region : mappedRegions) {
    if (begin < region.data() || end > region.data() + region.size())
      continue;
    // Whole pages around the range: a page shared with a neighbouring
    // tensor that is still to be read is faulted back in from the page
    // cache, which costs a minor fault, not a disk read. The mapping is
    // read-only and private, so no data can be lost.
    uintptr_t page = llvm::sys::Process::getPageSizeEstimate();
    uintptr_t lo = reinterpret_cast<uintptr_t>(begin) / page * page;
    uintptr_t hi = (reinterpret_cast<uintptr_t>(end) + page - 1) / page * page;
    uintptr_t first = (reinterpret_cast<uintptr_t>(region.data()) + page - 1) /
                      page * page;
    lo = std::max(lo, first);
    if (hi > lo)
      // A hint: if it fails, the pages merely stay resident.
      (void)::madvise(reinterpret_cast<void *>(lo), hi - lo, MADV_DONTNEED);
    return;
  }
}

llvm::Error WeightStore::add(WeightEntry entry) {
  if (entryIndex.count(entry.name))
    return llvm::createStringError("weight '" + entry.name +
                                   "' is defined twice");
  int64_t expected = 1;
  for (int64_t dim : entry.shape) {
    if (dim <= 0 || __builtin_mul_overflow(expected, dim, &expected))
      return llvm::createStringError("weight '" + entry.name +
                                     "' has an invalid shape " +
                                     formatShape(entry.shape));
  }
  int64_t actual = 0;
  for (const WeightPart &part : entry.parts) {
    if (part.bytes.size() % dtypeSize(part.dtype) != 0)
      return llvm::createStringError(
          part.origin + ": size is not a multiple of the element size");
    actual += part.elementCount();
  }
  if (actual != expected)
    return llvm::createStringError(llvm::formatv(
        "weight '{0}' of shape {1} needs {2} elements, its sources hold {3}",
        entry.name, formatShape(entry.shape), expected, actual));
  if (!entry.parts.empty())
    entry.sourceType = entry.parts.front().dtype;
  entryIndex[entry.name] = entryList.size();
  entryList.push_back(std::move(entry));
  return llvm::Error::success();
}

llvm::Error WeightStore::keepLeadingRows(StringRef name, int64_t rows) {
  auto it = entryIndex.find(name);
  if (it == entryIndex.end())
    return llvm::createStringError("no weight '" + name + "' to shorten");
  WeightEntry &entry = entryList[it->second];
  if (entry.shape.empty() || rows <= 0 || rows > entry.shape[0])
    return llvm::createStringError(llvm::formatv(
        "weight '{0}' of shape {1} has no {2} leading rows", entry.name,
        formatShape(entry.shape), rows));
  // Row-major: the first rows are the first elements of the parts in order.
  int64_t keep = entry.elementCount() / entry.shape[0] * rows;
  std::vector<WeightPart> kept;
  for (WeightPart &part : entry.parts) {
    if (keep == 0)
      break;
    int64_t take = std::min(keep, part.elementCount());
    part.bytes = part.bytes.take_front(static_cast<size_t>(take) * dtypeSize(part.dtype));
    keep -= take;
    kept.push_back(std::move(part));
  }
  entry.parts = std::move(kept);
  entry.shape[0] = rows;
  return llvm::Error::success();
}

const WeightEntry *WeightStore::lookup(StringRef name) const {
  auto it = entryIndex.find(name);
  return it == entryIndex.end() ? nullptr : &entryList[it->second];
}

int64_t WeightStore::elementCount(StringRef name) const {
  const WeightEntry *entry = lookup(name);
  return entry ? entry->elementCount() : 0;
}

/// Loads element `i` of a source run as float; memcpy because mapped
/// checkpoint data need not be aligned.
static float loadAsFloat(const uint8_t *src, DType type, int64_t i) {
  if (type == DType::I8)
    return static_cast<float>(static_cast<int8_t>(src[i]));
  if (type == DType::F32) {
    float value;
    std::memcpy(&value, src + 4 * i, 4);
    return value;
  }
  uint16_t bits;
  std::memcpy(&bits, src + 2 * i, 2);
  return type == DType::F16 ? halfToFloat(bits) : bf16ToFloat(bits);
}

static void storeFloat(uint8_t *dst, DType type, int64_t i, float value) {
  if (type == DType::I8) {
    // Quantized values are only ever copied; a float converted here is
    // saturated rather than left undefined.
    float clamped = std::min(127.0f, std::max(-128.0f, std::nearbyint(value)));
    dst[i] = static_cast<uint8_t>(static_cast<int8_t>(clamped));
    return;
  }
  if (type == DType::F32) {
    std::memcpy(dst + 4 * i, &value, 4);
    return;
  }
  uint16_t bits = type == DType::F16 ? floatToHalf(value) : floatToBF16(value);
  std::memcpy(dst + 2 * i, &bits, 2);
}

/// Converts `count` elements; same-type copies are bit-exact memcpy.
/// Returns the index of the first finite value that became infinite (too
/// large for `dstType`: above 65504 in f16), or -1.
static int64_t convert(const uint8_t *src, DType srcType, uint8_t *dst,
                       DType dstType, int64_t count) {
  if (srcType == dstType) {
    std::memcpy(dst, src, count * dtypeSize(srcType));
    return -1;
  }
  // The conversions whose range is smaller than their source's.
  const bool narrowing =
      dstType == DType::F16 || (dstType == DType::BF16 && srcType == DType::F32);
  int64_t overflow = -1;
  for (int64_t i = 0; i < count; ++i) {
    float value = loadAsFloat(src, srcType, i);
    storeFloat(dst, dstType, i, value);
    if (narrowing && overflow < 0 && std::isfinite(value) &&
        std::isinf(loadAsFloat(dst, dstType, i)))
      overflow = i;
  }
  return overflow;
}

/// The error for element `index` of weight `name`, which `dst` cannot hold.
static llvm::Error overflowError(StringRef name, DType dst, int64_t index, float value) {
  std::ostringstream shown; // 100000, 1e+30: the shortest readable form
  shown << value;
  return llvm::createStringError(llvm::formatv(
      "weight '{0}' holds {1} (element {2}), beyond the largest finite {3} value: "
      "converted it would be infinite (compile with a wider --dtype, e.g. f32)",
      name, shown.str(), index, dtypeName(dst)));
}

std::vector<DType> WeightStore::sourceDTypes() const {
  std::vector<DType> types;
  for (const WeightEntry &entry : entryList)
    for (const WeightPart &part : entry.parts)
      if (!llvm::is_contained(types, part.dtype))
        types.push_back(part.dtype);
  return types;
}

llvm::Error WeightStore::read(StringRef name, DType dst,
                              llvm::MutableArrayRef<uint8_t> out,
                              ReadProgress progress) const {
  const WeightEntry *entry = lookup(name);
  if (!entry)
    return llvm::createStringError("no weight named '" + name + "'");
  uint64_t total = entry->elementCount() * dtypeSize(dst);
  if (out.size() != total)
    return llvm::createStringError(llvm::formatv(
        "reading weight '{0}' as {1} needs a {2}-byte buffer, got {3}", name,
        dtypeName(dst), total, out.size()));
  // Chunks bound the time between progress reports on huge tensors.
  constexpr int64_t kChunkElements = int64_t(1) << 22;
  uint8_t *cursor = out.data();
  for (const WeightPart &part : entry->parts) {
    int64_t count = part.elementCount();
    for (int64_t start = 0; start < count; start += kChunkElements) {
      int64_t n = std::min(kChunkElements, count - start);
      const uint8_t *source = part.bytes.data() + start * dtypeSize(part.dtype);
      if (int64_t bad = convert(source, part.dtype, cursor, dst, n); bad >= 0)
        return overflowError(name, dst, (cursor - out.data()) / dtypeSize(dst) + bad,
                             loadAsFloat(source, part.dtype, bad));
      cursor += n * dtypeSize(dst);
      if (progress)
        progress(cursor - out.data(), total);
    }
  }
  return llvm::Error::success();
}

llvm::Error WeightStore::stream(StringRef name, DType dst,
                                llvm::MutableArrayRef<uint8_t> scratch,
                                ChunkSink sink) const {
  const WeightEntry *entry = lookup(name);
  if (!entry)
    return llvm::createStringError("no weight named '" + name + "'");
  int64_t chunkElements = static_cast<int64_t>(scratch.size() / dtypeSize(dst));
  if (chunkElements == 0)
    return llvm::createStringError(
        "streaming weight '" + name + "' needs a scratch buffer of at least "
        "one element");
  int64_t streamed = 0; ///< elements before this chunk
  for (const WeightPart &part : entry->parts) {
    size_t srcSize = dtypeSize(part.dtype);
    int64_t count = part.elementCount();
    for (int64_t start = 0; start < count; start += chunkElements) {
      int64_t n = std::min(chunkElements, count - start);
      llvm::ArrayRef<uint8_t> source =
          part.bytes.slice(start * srcSize, n * srcSize);
      if (int64_t bad = convert(source.data(), part.dtype, scratch.data(), dst, n); bad >= 0)
        return overflowError(name, dst, streamed + bad,
                             loadAsFloat(source.data(), part.dtype, bad));
      streamed += n;
      releaseSourcePages(source);
      if (llvm::Error err = sink(scratch.take_front(n * dtypeSize(dst))))
        return err;
    }
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<float>> WeightStore::readF32(StringRef name) const {
  std::vector<float> values(elementCount(name));
  llvm::MutableArrayRef<uint8_t> bytes(
      reinterpret_cast<uint8_t *>(values.data()), values.size() * 4);
  if (llvm::Error err = read(name, DType::F32, bytes))
    return std::move(err);
  return values;
}

llvm::Expected<std::vector<float>>
WeightStore::readLayerF32(StringRef name, int64_t layer) const {
  const WeightEntry *entry = lookup(name);
  if (!entry)
    return llvm::createStringError("no weight named '" + name + "'");
  if (!entry->isStacked() || entry->shape.empty() || layer < 0 ||
      layer >= entry->shape[0])
    return llvm::createStringError(
        llvm::formatv("weight '{0}' of shape {1} has no layer {2}", name,
                      formatShape(entry->shape), layer));
  int64_t perLayer = entry->elementCount() / entry->shape[0];
  return readRangeF32(name, layer * perLayer, perLayer);
}

llvm::Expected<std::vector<float>> WeightStore::readRangeF32(StringRef name, int64_t begin,
                                                             int64_t count) const {
  std::vector<float> values(std::max<int64_t>(count, 0));
  if (llvm::Error err = readRangeF32(name, begin, values))
    return std::move(err);
  return values;
}

llvm::Error WeightStore::readRangeF32(StringRef name, int64_t begin,
                                      llvm::MutableArrayRef<float> values) const {
  const WeightEntry *entry = lookup(name);
  if (!entry)
    return llvm::createStringError("no weight named '" + name + "'");
  int64_t count = static_cast<int64_t>(values.size());
  if (begin < 0 || begin + count > entry->elementCount())
    return llvm::createStringError(
        llvm::formatv("weight '{0}' of shape {1} has no elements [{2}, {3})", name,
                      formatShape(entry->shape), begin, begin + count));
  // Walk the parts to the range; parts need not be per layer.
  int64_t end = begin + count, offset = 0;
  for (const WeightPart &part : entry->parts) {
    int64_t partCount = part.elementCount();
    int64_t lo = std::max(begin, offset), hi = std::min(end, offset + partCount);
    if (lo < hi) {
      for (int64_t i = lo; i < hi; ++i)
        values[i - begin] = loadAsFloat(part.bytes.data(), part.dtype, i - offset);
      size_t size = dtypeSize(part.dtype);
      releaseSourcePages(part.bytes.slice((lo - offset) * size, (hi - lo) * size));
    }
    offset += partCount;
  }
  return llvm::Error::success();
}

std::vector<const char *> canonicalWeightNames(const ModelConfig &config) {
  using namespace weight_names;
  std::vector<const char *> names{kTokEmbeddings, kAttnNorm, kWq, kWk, kWv, kWo, kFfnNorm};
  if (config.isMixtureOfExperts())
    names.insert(names.end(), {kRouter, kExpertW1, kExpertW2, kExpertW3});
  else
    names.insert(names.end(), {kW1, kW2, kW3});
  names.insert(names.end(), {kNorm, kOutput});
  return names;
}

std::optional<std::vector<int64_t>> canonicalShape(const ModelConfig &config,
                                                   StringRef name) {
  using namespace weight_names;
  int64_t L = config.layers, D = config.dim, F = config.hiddenDim,
          V = config.vocab, q = config.heads * config.headDim,
          kv = config.kvHeads * config.headDim;
  if (name == kTokEmbeddings || name == kOutput)
    return std::vector<int64_t>{V, D};
  if (name == kAttnNorm || name == kFfnNorm)
    return std::vector<int64_t>{L, D};
  if (name == kWq)
    return std::vector<int64_t>{L, q, D};
  if (name == kWk || name == kWv)
    return std::vector<int64_t>{L, kv, D};
  if (name == kWo)
    return std::vector<int64_t>{L, D, q};
  // A mixture of experts has expert projections instead.
  bool dense = !config.isMixtureOfExperts();
  if (dense && (name == kW1 || name == kW3))
    return std::vector<int64_t>{L, F, D};
  if (dense && name == kW2)
    return std::vector<int64_t>{L, D, F};
  if (name == kNorm)
    return std::vector<int64_t>{D};
  int64_t E = config.experts;
  if (E > 0 && name == kRouter)
    return std::vector<int64_t>{L, E, D};
  if (E > 0 && (name == kExpertW1 || name == kExpertW3))
    return std::vector<int64_t>{L, E, F, D};
  if (E > 0 && name == kExpertW2)
    return std::vector<int64_t>{L, E, D, F};
  return std::nullopt;
}

llvm::Error WeightStore::checkAgainst(const ModelConfig &config) const {
  for (const char *name : canonicalWeightNames(config)) {
    std::vector<int64_t> expected = *canonicalShape(config, name);
    const WeightEntry *entry = lookup(name);
    if (!entry)
      return llvm::createStringError(
          llvm::formatv("missing weight '{0}' (expected shape {1})", name,
                        formatShape(expected)));
    if (entry->shape != expected)
      return llvm::createStringError(
          llvm::formatv("weight '{0}' has shape {1}, expected {2}", name,
                        formatShape(entry->shape), formatShape(expected)));
  }
  return llvm::Error::success();
}

} // namespace llamac
