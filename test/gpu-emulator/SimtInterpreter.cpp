//===- SimtInterpreter.cpp - runs gpu.func kernels on the host ------------===//
//
// Every SSA value holds, for each lane of the block, `width` elements (1 for
// a scalar, n for vector<n x T>, 4 for an mma.sync result struct), all as
// doubles: f32 values are rounded to float by each op, bf16 and f16 to their
// own precision, integers are exact below 2^53 (indices, i32 bit patterns).
//
//===----------------------------------------------------------------------===//

#include "test/gpu-emulator/SimtInterpreter.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <vector>

namespace llamac::emu {
namespace {

using namespace mlir;

/// An error that unwinds the interpretation of one kernel.
struct Failure {
  std::string message;
};

[[noreturn]] void fail(Operation *op, const std::string &what) {
  std::string name = op ? op->getName().getStringRef().str() : "kernel";
  throw Failure{absl::StrCat("'", name, "': ", what)};
}

//===----------------------------------------------------------------------===//
// Number formats
//===----------------------------------------------------------------------===//

uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// f32 to bf16 bits, rounding to nearest even (NaN kept quiet).
uint16_t toBf16Bits(float f) {
  uint32_t u = floatBits(f);
  if (std::isnan(f))
    return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

float fromBf16Bits(uint16_t b) { return bitsFloat(static_cast<uint32_t>(b) << 16); }

/// f32 to IEEE half bits, rounding to nearest even.
uint16_t toF16Bits(float f) {
  uint32_t x = floatBits(f);
  uint32_t sign = (x >> 16) & 0x8000;
  if ((x & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>(sign | 0x7e00);
  int32_t exponent = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffff;
  if (exponent >= 31)
    return static_cast<uint16_t>(sign | 0x7c00);
  uint32_t half, rest, halfway;
  if (exponent <= 0) {
    if (exponent < -10)
      return static_cast<uint16_t>(sign);
    mantissa |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - exponent);
    half = mantissa >> shift;
    rest = mantissa & ((1u << shift) - 1);
    halfway = 1u << (shift - 1);
  } else {
    half = (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
    rest = mantissa & 0x1fff;
    halfway = 0x1000;
  }
  if (rest > halfway || (rest == halfway && (half & 1)))
    ++half; // a carry into the exponent rounds up correctly, to inf at most
  return static_cast<uint16_t>(sign | half);
}

float fromF16Bits(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent == 0) {
    float v = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -v : v;
  }
  if (exponent == 31)
    return bitsFloat(sign | 0x7f800000 | (mantissa << 13));
  return bitsFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

/// `v` as the float type `t` holds it.
double roundTo(Type t, double v) {
  if (t.isF32())
    return static_cast<float>(v);
  if (t.isBF16())
    return fromBf16Bits(toBf16Bits(static_cast<float>(v)));
  if (t.isF16())
    return fromF16Bits(toF16Bits(static_cast<float>(v)));
  if (t.isF64())
    return v;
  fail(nullptr, "unsupported float type");
}

unsigned intWidth(Type t) { return t.isIndex() ? 64 : t.getIntOrFloatBitWidth(); }

/// `v` wrapped to a signed integer of `t`'s width (i1 is 0 or 1).
int64_t wrapInt(Type t, int64_t v) {
  unsigned bits = intWidth(t);
  if (bits >= 64)
    return v;
  if (bits == 1)
    return v & 1;
  uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(v) & mask;
  if (u & (uint64_t{1} << (bits - 1)))
    return static_cast<int64_t>(u | ~mask);
  return static_cast<int64_t>(u);
}

uint64_t asUnsigned(Type t, int64_t v) {
  unsigned bits = intWidth(t);
  if (bits >= 64)
    return static_cast<uint64_t>(v);
  return static_cast<uint64_t>(v) & ((uint64_t{1} << bits) - 1);
}

Type elementOf(Type t) {
  if (auto vector = dyn_cast<VectorType>(t))
    return vector.getElementType();
  return t;
}

int64_t widthOf(Type t) {
  if (auto vector = dyn_cast<VectorType>(t))
    return vector.getNumElements();
  if (auto structType = dyn_cast<LLVM::LLVMStructType>(t))
    return structType.getBody().size();
  return 1;
}

int64_t byteSize(Type t) {
  if (t.isIndex())
    return 8;
  return (t.getIntOrFloatBitWidth() + 7) / 8;
}

/// One element of type `t` at `p`, as a double.
double loadElement(Type t, const uint8_t *p) {
  if (t.isF32()) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (t.isBF16() || t.isF16()) {
    uint16_t b;
    std::memcpy(&b, p, 2);
    return t.isBF16() ? fromBf16Bits(b) : fromF16Bits(b);
  }
  switch (byteSize(t)) {
  case 1:
    return wrapInt(t, *reinterpret_cast<const int8_t *>(p));
  case 2: {
    int16_t v;
    std::memcpy(&v, p, 2);
    return wrapInt(t, v);
  }
  case 4: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return wrapInt(t, v);
  }
  default: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<double>(v);
  }
  }
}

void storeElement(Type t, uint8_t *p, double v) {
  if (t.isF32()) {
    float f = static_cast<float>(v);
    std::memcpy(p, &f, 4);
    return;
  }
  if (t.isBF16() || t.isF16()) {
    uint16_t b = t.isBF16() ? toBf16Bits(static_cast<float>(v)) : toF16Bits(static_cast<float>(v));
    std::memcpy(p, &b, 2);
    return;
  }
  int64_t i = static_cast<int64_t>(v);
  std::memcpy(p, &i, static_cast<size_t>(byteSize(t)));
}

//===----------------------------------------------------------------------===//
// The interpreter
//===----------------------------------------------------------------------===//

/// A memref the kernel can reach: a parameter or a workgroup buffer.
/// The subgroup that last wrote or read an element of workgroup memory, and
/// in which interval between barriers.
struct Access {
  int64_t epoch = -1;
  int64_t subgroup = -1; ///< -2: several subgroups read it
};

struct Memory {
  uint8_t *base = nullptr;
  MemRefType type;
  SmallVector<int64_t> strides;
  /// Workgroup buffers only: lockstep execution would hide a missing
  /// barrier, so two subgroups touching an element between the same two
  /// barriers, one of them writing, is reported as the race it is on a GPU.
  bool shared = false;
  std::vector<Access> lastWrite, lastRead;
};

using Mask = std::vector<char>;

/// mlir::Value as a key of a node-based map, whose entries stay put when
/// it grows (ops hold references to their operands' storage).
struct ValueHash {
  size_t operator()(Value v) const { return hash_value(v); }
};

class BlockInterpreter {
public:
  BlockInterpreter(gpu::GPUFuncOp kernel, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block,
        int subgroupSize)
      : kernel(kernel), grid(grid), blockDims(block), subgroupSize(subgroupSize),
        lanes(static_cast<int64_t>(block[0]) * block[1] * block[2]) {}

  void bindArguments(ArrayRef<KernelArg> args) {
    // The parameters, not the workgroup buffers that follow them.
    auto params = kernel.getArguments().take_front(kernel.getNumArguments());
    if (params.size() != args.size())
      fail(kernel, absl::StrCat("takes ", params.size(), " arguments, given ", args.size()));
    for (auto [param, arg] : llvm::zip(params, args)) {
      if (auto type = dyn_cast<MemRefType>(param.getType())) {
        if (!arg.pointer)
          fail(kernel, "null pointer for a memref argument");
        addMemory(param, static_cast<uint8_t *>(arg.pointer), type);
      } else if (param.getType().isIntOrIndex()) {
        values[param].assign(static_cast<size_t>(lanes), static_cast<double>(arg.value));
      } else {
        fail(kernel, "unsupported argument type");
      }
    }
  }

  void run(std::array<uint32_t, 3> blockId) {
    id = blockId;
    // Fresh (zeroed) shared memory for each block.
    workgroup.clear();
    for (BlockArgument buffer : kernel.getWorkgroupAttributions()) {
      auto type = cast<MemRefType>(buffer.getType());
      workgroup.emplace_back(static_cast<size_t>(type.getNumElements() *
                                                 byteSize(type.getElementType())),
                             0);
      addMemory(buffer, workgroup.back().data(), type, /*shared=*/true);
    }
    epoch = 0;
    Mask all(static_cast<size_t>(lanes), 1);
    execBlock(kernel.getBody().front(), all);
  }

private:
  void addMemory(Value v, uint8_t *base, MemRefType type, bool shared = false) {
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      fail(kernel, "memrefs must be static with the identity layout");
    Memory m{base, type, {}};
    if (shared) {
      m.shared = true;
      m.lastWrite.resize(static_cast<size_t>(type.getNumElements()));
      m.lastRead.resize(static_cast<size_t>(type.getNumElements()));
    }
    int64_t stride = 1;
    m.strides.resize(type.getRank());
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      m.strides[d] = stride;
      stride *= type.getDimSize(d);
    }
    memories[v] = m;
  }

  std::vector<double> &slot(Value v) {
    std::vector<double> &s = values[v];
    s.resize(static_cast<size_t>(lanes * widthOf(v.getType())));
    return s;
  }

  const std::vector<double> &get(Operation *op, Value v) {
    auto it = values.find(v);
    if (it == values.end())
      fail(op, "uses a value the interpreter has not computed");
    return it->second;
  }

  /// Byte address of `memref[indices]` for `lane`, checked against the
  /// shape; `count` consecutive elements along the last dimension.
  uint8_t *address(Operation *op, Value memref, ValueRange indices, int64_t lane,
                   int64_t count) {
    auto it = memories.find(memref);
    if (it == memories.end())
      fail(op, "unknown memref");
    const Memory &m = it->second;
    int64_t offset = 0;
    for (auto [d, index] : llvm::enumerate(indices)) {
      int64_t i = static_cast<int64_t>(get(op, index)[static_cast<size_t>(lane)]);
      int64_t extent = (d + 1 == indices.size()) ? count : 1;
      if (i < 0 || i + extent > m.type.getDimSize(d))
        fail(op, absl::StrCat("index ", i, " (+", extent, ") out of bounds of dimension ", d,
                              " (", m.type.getDimSize(d), ") at lane ", lane));
      offset += i * m.strides[d];
    }
    return m.base + offset * byteSize(m.type.getElementType());
  }

  /// Runs the ops of `block` for the lanes in `mask`; returns the operands
  /// of its terminator (scf.yield) per lane.
  void execBlock(mlir::Block &block, const Mask &mask) {
    for (Operation &op : block) {
      if (isa<scf::YieldOp, gpu::ReturnOp>(op))
        return;
      exec(&op, mask);
    }
  }

  /// The values `block`'s scf.yield gives, for the lanes in `mask`, copied
  /// into `results`.
  void collectYield(Operation *op, mlir::Block &block, const Mask &mask, ResultRange results) {
    auto yield = cast<scf::YieldOp>(block.getTerminator());
    for (auto [result, yielded] : llvm::zip(results, yield.getOperands())) {
      const std::vector<double> &from = get(op, yielded);
      std::vector<double> &to = slot(result);
      int64_t w = widthOf(result.getType());
      for (int64_t l = 0; l < lanes; ++l)
        if (mask[l])
          for (int64_t e = 0; e < w; ++e)
            to[l * w + e] = from[l * w + e];
    }
  }

  void exec(Operation *op, const Mask &mask) {
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      return execIf(ifOp, mask);
    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return execFor(forOp, mask);
    if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op))
      return execShuffle(shuffle, mask);
    if (isa<gpu::BarrierOp>(op)) {
      for (char active : mask)
        if (!active)
          fail(op, "a barrier reached by only some threads of the block");
      ++epoch;
      return;
    }
    if (auto mma = dyn_cast<NVVM::MmaOp>(op))
      return execMmaSync(mma, mask);
    if (auto mfma = dyn_cast<amdgpu::MFMAOp>(op))
      return execMfma(mfma, mask);
    if (auto load = dyn_cast<memref::LoadOp>(op))
      return execLoad(op, load.getMemRef(), load.getIndices(), load.getResult(), mask);
    if (auto load = dyn_cast<vector::LoadOp>(op))
      return execLoad(op, load.getBase(), load.getIndices(), load.getResult(), mask);
    if (auto store = dyn_cast<memref::StoreOp>(op))
      return execStore(op, store.getMemRef(), store.getIndices(), store.getValue(), mask);
    if (auto store = dyn_cast<vector::StoreOp>(op))
      return execStore(op, store.getBase(), store.getIndices(), store.getValueToStore(), mask);
    execPure(op);
  }

  void execIf(scf::IfOp op, const Mask &mask) {
    const std::vector<double> &cond = get(op, op.getCondition());
    Mask thenMask(mask.size()), elseMask(mask.size());
    bool anyThen = false, anyElse = false;
    for (size_t l = 0; l < mask.size(); ++l) {
      thenMask[l] = mask[l] && cond[l] != 0;
      elseMask[l] = mask[l] && cond[l] == 0;
      anyThen |= thenMask[l];
      anyElse |= elseMask[l];
    }
    for (Value result : op.getResults())
      slot(result);
    if (anyThen) {
      execBlock(op.getThenRegion().front(), thenMask);
      if (op.getNumResults())
        collectYield(op, op.getThenRegion().front(), thenMask, op.getResults());
    }
    if (anyElse && !op.getElseRegion().empty()) {
      execBlock(op.getElseRegion().front(), elseMask);
      if (op.getNumResults())
        collectYield(op, op.getElseRegion().front(), elseMask, op.getResults());
    }
  }

  void execFor(scf::ForOp op, const Mask &mask) {
    std::vector<double> lower = get(op, op.getLowerBound());
    const std::vector<double> &upper = get(op, op.getUpperBound());
    const std::vector<double> &step = get(op, op.getStep());
    mlir::Block &body = *op.getBody();
    Value iv = op.getInductionVar();
    // The carried values start as the inits and live in the region's
    // arguments; the loop's results take them when a lane leaves.
    for (auto [arg, init] : llvm::zip(op.getRegionIterArgs(), op.getInitArgs()))
      slot(arg) = get(op, init);
    std::vector<double> &ivSlot = slot(iv);
    ivSlot = lower;
    Mask active(mask.size());
    while (true) {
      bool any = false;
      for (size_t l = 0; l < mask.size(); ++l) {
        active[l] = mask[l] && ivSlot[l] < upper[l];
        any |= active[l];
      }
      if (!any)
        break;
      execBlock(body, active);
      auto yield = cast<scf::YieldOp>(body.getTerminator());
      for (auto [arg, yielded] : llvm::zip(op.getRegionIterArgs(), yield.getOperands())) {
        const std::vector<double> &from = get(op, yielded);
        std::vector<double> &to = slot(arg);
        int64_t w = widthOf(arg.getType());
        for (int64_t l = 0; l < lanes; ++l)
          if (active[l])
            for (int64_t e = 0; e < w; ++e)
              to[l * w + e] = from[l * w + e];
      }
      for (size_t l = 0; l < mask.size(); ++l)
        if (active[l]) {
          if (step[l] <= 0)
            fail(op, "non-positive step");
          ivSlot[l] += step[l];
        }
    }
    for (auto [result, arg] : llvm::zip(op.getResults(), op.getRegionIterArgs()))
      slot(result) = get(op, arg);
  }

  void execShuffle(gpu::ShuffleOp op, const Mask &mask) {
    const std::vector<double> &value = get(op, op.getValue());
    const std::vector<double> &offset = get(op, op.getOffset());
    const std::vector<double> &width = get(op, op.getWidth());
    std::vector<double> &out = slot(op.getShuffleResult());
    std::vector<double> &valid = slot(op.getValid());
    for (int64_t l = 0; l < lanes; ++l) {
      if (!mask[l])
        continue;
      int64_t w = static_cast<int64_t>(width[l]);
      if (w != subgroupSize)
        fail(op, absl::StrCat("width ", w, " is not the subgroup size ", subgroupSize));
      int64_t base = l - l % w, lane = l % w, o = static_cast<int64_t>(offset[l]);
      int64_t src = -1;
      switch (op.getMode()) {
      case gpu::ShuffleMode::XOR:
        src = lane ^ o;
        break;
      case gpu::ShuffleMode::IDX:
        src = o;
        break;
      case gpu::ShuffleMode::DOWN:
        src = lane + o;
        break;
      case gpu::ShuffleMode::UP:
        src = lane - o;
        break;
      }
      bool inside = src >= 0 && src < w;
      // A block smaller than a subgroup has no lanes past its end.
      if (inside && base + src >= lanes)
        fail(op, "reads a lane past the end of the block");
      if (inside && !mask[base + src])
        fail(op, "reads a lane that is switched off");
      valid[l] = inside;
      out[l] = inside ? value[base + src] : value[l];
    }
  }

  /// Every lane of each subgroup that `mask` touches must be on: a
  /// matrix-unit op needs the whole warp or wave.
  void requireWholeSubgroups(Operation *op, const Mask &mask, int64_t group) {
    if (lanes % group != 0)
      fail(op, absl::StrCat("a block of ", lanes, " threads is not whole subgroups of ", group));
    for (int64_t s = 0; s < lanes; s += group) {
      bool any = false, all = true;
      for (int64_t l = s; l < s + group; ++l) {
        any |= mask[l] != 0;
        all &= mask[l] != 0;
      }
      if (any && !all)
        fail(op, "runs with part of a subgroup switched off");
    }
  }

  /// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 over each warp,
  /// with the fragments laid out as the PTX ISA says ("Matrix Fragments for
  /// mma.m16n8k16 with floating point type"): g = lane / 4, t = lane % 4;
  /// A register r holds row g + 8 (r % 2), columns 2t + 8 (r / 2) + {0, 1};
  /// B register r holds rows 2t + 8 r + {0, 1} of column g; C element i is
  /// (g + 8 (i / 2), 2t + i % 2). Each register's low half is the first.
  void execMmaSync(NVVM::MmaOp op, const Mask &mask) {
    if (subgroupSize != 32)
      fail(op, "mma.sync needs 32-lane warps");
    auto shape = op.getShape();
    if (shape.getM() != 16 || shape.getN() != 8 || shape.getK() != 16 ||
        op.getMultiplicandAPtxType() != NVVM::MMATypes::bf16 ||
        op.getMultiplicandBPtxType() != NVVM::MMATypes::bf16 ||
        op.getLayoutA() != NVVM::MMALayout::row || op.getLayoutB() != NVVM::MMALayout::col)
      fail(op, "only m16n8k16 bf16 row.col is modelled");
    requireWholeSubgroups(op, mask, 32);
    auto a = op.getOperandA(), b = op.getOperandB(), c = op.getOperandC();
    if (a.size() != 4 || b.size() != 2 || c.size() != 4)
      fail(op, "expects 4 A, 2 B and 4 C registers");
    std::vector<double> &out = slot(op.getResult());
    auto half = [](double reg, int which) {
      uint32_t bits = static_cast<uint32_t>(static_cast<int64_t>(reg));
      return static_cast<double>(fromBf16Bits(static_cast<uint16_t>(bits >> (16 * which))));
    };
    for (int64_t warp = 0; warp < lanes; warp += 32) {
      if (!mask[warp])
        continue;
      double A[16][16], B[16][8], C[16][8];
      for (int64_t lane = 0; lane < 32; ++lane) {
        int64_t g = lane / 4, t = lane % 4, l = warp + lane;
        for (int r = 0; r < 4; ++r) {
          double reg = get(op, a[r])[l];
          int64_t row = g + 8 * (r % 2), col = 2 * t + 8 * (r / 2);
          A[row][col] = half(reg, 0);
          A[row][col + 1] = half(reg, 1);
        }
        for (int r = 0; r < 2; ++r) {
          double reg = get(op, b[r])[l];
          int64_t row = 2 * t + 8 * r;
          B[row][g] = half(reg, 0);
          B[row + 1][g] = half(reg, 1);
        }
        for (int i = 0; i < 4; ++i)
          C[g + 8 * (i / 2)][2 * t + i % 2] = get(op, c[i])[l];
      }
      for (int64_t lane = 0; lane < 32; ++lane) {
        int64_t g = lane / 4, t = lane % 4, l = warp + lane;
        for (int i = 0; i < 4; ++i) {
          int64_t row = g + 8 * (i / 2), col = 2 * t + i % 2;
          float sum = static_cast<float>(C[row][col]);
          for (int k = 0; k < 16; ++k)
            sum += static_cast<float>(A[row][k] * B[k][col]);
          out[l * 4 + i] = sum;
        }
      }
    }
  }

  /// v_mfma_f32_16x16x16_bf16 over each 64-lane wave, laid out as AMD's
  /// matrix instruction calculator gives it: with r = lane % 16 and
  /// q = lane / 16, element e of a lane holds A[r][4q + e], B[4q + e][r] and
  /// D[4q + e][r].
  void execMfma(amdgpu::MFMAOp op, const Mask &mask) {
    if (subgroupSize != 64)
      fail(op, "MFMA needs 64-lane waves");
    if (op.getM() != 16 || op.getN() != 16 || op.getK() != 16 || op.getBlocks() != 1 ||
        op.getCbsz() != 0 || op.getAbid() != 0 || op.getBlgp() != amdgpu::MFMAPermB::none ||
        !elementOf(op.getSourceA().getType()).isBF16() || widthOf(op.getSourceA().getType()) != 4)
      fail(op, "only the plain 16x16x16 bf16 MFMA is modelled");
    requireWholeSubgroups(op, mask, 64);
    const std::vector<double> &a = get(op, op.getSourceA()), &b = get(op, op.getSourceB()),
                              &c = get(op, op.getDestC());
    std::vector<double> &out = slot(op.getDestD());
    for (int64_t wave = 0; wave < lanes; wave += 64) {
      if (!mask[wave])
        continue;
      double A[16][16], B[16][16];
      for (int64_t lane = 0; lane < 64; ++lane)
        for (int64_t e = 0; e < 4; ++e) {
          int64_t l = wave + lane, r = lane % 16, k = 4 * (lane / 16) + e;
          A[r][k] = a[l * 4 + e];
          B[k][r] = b[l * 4 + e];
        }
      for (int64_t lane = 0; lane < 64; ++lane)
        for (int64_t e = 0; e < 4; ++e) {
          int64_t l = wave + lane, row = 4 * (lane / 16) + e, col = lane % 16;
          float sum = static_cast<float>(c[l * 4 + e]);
          for (int k = 0; k < 16; ++k)
            sum += static_cast<float>(A[row][k] * B[k][col]);
          out[l * 4 + e] = sum;
        }
    }
  }

  /// Records an access of lane `lane` to element `element` of workgroup
  /// buffer `m`; an error when another subgroup wrote it, or (for a write)
  /// read it, since the last barrier.
  void track(Operation *op, Memory &m, int64_t element, int64_t lane, bool write) {
    int64_t subgroup = lane / subgroupSize;
    Access &lastWrite = m.lastWrite[static_cast<size_t>(element)];
    Access &lastRead = m.lastRead[static_cast<size_t>(element)];
    if (lastWrite.epoch == epoch && lastWrite.subgroup != subgroup)
      fail(op, absl::StrCat("subgroup ", subgroup, (write ? " writes" : " reads"),
                            " workgroup memory that subgroup ", lastWrite.subgroup,
                            " wrote since the last barrier (a race)"));
    if (write && lastRead.epoch == epoch && lastRead.subgroup != subgroup)
      fail(op, absl::StrCat("subgroup ", subgroup,
                            " writes workgroup memory that another subgroup read since the last "
                            "barrier (a race)"));
    if (write)
      lastWrite = {epoch, subgroup};
    else if (lastRead.epoch != epoch)
      lastRead = {epoch, subgroup};
    else if (lastRead.subgroup != subgroup)
      lastRead.subgroup = -2;
  }

  void execAccess(Operation *op, Value memref, ValueRange indices, Value value, bool write,
                  const Mask &mask) {
    auto it = memories.find(memref);
    if (it == memories.end())
      fail(op, "unknown memref");
    Memory &m = it->second;
    Type element = m.type.getElementType();
    int64_t w = widthOf(value.getType());
    int64_t size = byteSize(element);
    const std::vector<double> *in = write ? &get(op, value) : nullptr;
    std::vector<double> *out = write ? nullptr : &slot(value);
    for (int64_t l = 0; l < lanes; ++l) {
      if (!mask[l])
        continue;
      uint8_t *p = address(op, memref, indices, l, w);
      for (int64_t e = 0; e < w; ++e) {
        if (m.shared)
          track(op, m, (p - m.base) / size + e, l, write);
        if (write)
          storeElement(element, p + e * size, (*in)[l * w + e]);
        else
          (*out)[l * w + e] = loadElement(element, p + e * size);
      }
    }
  }

  void execLoad(Operation *op, Value memref, ValueRange indices, Value result, const Mask &mask) {
    execAccess(op, memref, indices, result, /*write=*/false, mask);
  }

  void execStore(Operation *op, Value memref, ValueRange indices, Value value, const Mask &mask) {
    execAccess(op, memref, indices, value, /*write=*/true, mask);
  }

  /// The ops without side effects: each result element from the operands'
  /// elements at the same lane, for every lane (the masked-off ones compute
  /// values nobody reads).
  void execPure(Operation *op) {
    if (op->getNumResults() != 1)
      fail(op, "not supported by the interpreter");
    Value result = op->getResult(0);
    Type type = result.getType();
    Type element = elementOf(type);
    int64_t w = widthOf(type);
    std::vector<double> &out = slot(result);
    auto operand = [&](unsigned i) -> const std::vector<double> & {
      return get(op, op->getOperand(i));
    };
    // Elementwise ops: f(x_i) or f(x_i, y_i).
    auto unary = [&](auto f) {
      const std::vector<double> &x = operand(0);
      for (size_t i = 0; i < out.size(); ++i)
        out[i] = f(x[i]);
    };
    auto binary = [&](auto f) {
      const std::vector<double> &x = operand(0), &y = operand(1);
      for (size_t i = 0; i < out.size(); ++i)
        out[i] = f(x[i], y[i]);
    };
    auto floatUnary = [&](auto f) {
      unary([&](double x) { return roundTo(element, f(static_cast<float>(x))); });
    };
    auto floatBinary = [&](auto f) {
      binary([&](double x, double y) {
        return roundTo(element, f(static_cast<float>(x), static_cast<float>(y)));
      });
    };
    auto intBinary = [&](auto f) {
      binary([&](double x, double y) {
        return static_cast<double>(
            wrapInt(element, f(static_cast<int64_t>(x), static_cast<int64_t>(y))));
      });
    };
    auto unsignedBinary = [&](Operation *o, auto f) {
      binary([&](double x, double y) {
        uint64_t a = asUnsigned(element, static_cast<int64_t>(x));
        uint64_t b = asUnsigned(element, static_cast<int64_t>(y));
        return static_cast<double>(wrapInt(element, static_cast<int64_t>(f(o, a, b))));
      });
    };
    auto divisor = [](Operation *o, uint64_t b) {
      if (b == 0)
        fail(o, "division by zero");
      return b;
    };

    llvm::TypeSwitch<Operation *>(op)
        .Case([&](arith::ConstantOp c) {
          Attribute value = c.getValue();
          auto scalar = [&](Attribute a) -> double {
            if (auto f = dyn_cast<FloatAttr>(a))
              return roundTo(element, f.getValueAsDouble());
            if (auto i = dyn_cast<IntegerAttr>(a))
              return static_cast<double>(wrapInt(element, i.getValue().getSExtValue()));
            fail(op, "unsupported constant");
          };
          if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
            SmallVector<double> elements;
            for (Attribute a : dense.getValues<Attribute>())
              elements.push_back(scalar(a));
            for (int64_t l = 0; l < lanes; ++l)
              for (int64_t e = 0; e < w; ++e)
                out[l * w + e] = elements[static_cast<size_t>(e)];
          } else {
            std::fill(out.begin(), out.end(), scalar(value));
          }
        })
        .Case([&](arith::AddFOp) { floatBinary([](float x, float y) { return x + y; }); })
        .Case([&](arith::SubFOp) { floatBinary([](float x, float y) { return x - y; }); })
        .Case([&](arith::MulFOp) { floatBinary([](float x, float y) { return x * y; }); })
        .Case([&](arith::DivFOp) { floatBinary([](float x, float y) { return x / y; }); })
        .Case([&](arith::MaximumFOp) {
          floatBinary([](float x, float y) {
            return std::isnan(x) || std::isnan(y) ? std::numeric_limits<float>::quiet_NaN()
                                                  : std::max(x, y);
          });
        })
        .Case([&](arith::MinimumFOp) {
          floatBinary([](float x, float y) {
            return std::isnan(x) || std::isnan(y) ? std::numeric_limits<float>::quiet_NaN()
                                                  : std::min(x, y);
          });
        })
        // maxnum / minnum: a NaN operand gives the other one (fmaxf, fminf;
        // PTX max.f32 / min.f32 and AMDGPU's v_max_f32 do the same).
        .Case([&](arith::MaxNumFOp) {
          floatBinary([](float x, float y) { return std::fmax(x, y); });
        })
        .Case([&](arith::MinNumFOp) {
          floatBinary([](float x, float y) { return std::fmin(x, y); });
        })
        .Case([&](arith::NegFOp) { floatUnary([](float x) { return -x; }); })
        .Case([&](math::ExpOp) { floatUnary([](float x) { return std::exp(x); }); })
        .Case([&](math::RsqrtOp) { floatUnary([](float x) { return 1.0f / std::sqrt(x); }); })
        .Case([&](math::SqrtOp) { floatUnary([](float x) { return std::sqrt(x); }); })
        .Case([&](math::SinOp) { floatUnary([](float x) { return std::sin(x); }); })
        .Case([&](math::CosOp) { floatUnary([](float x) { return std::cos(x); }); })
        .Case([&](math::PowFOp) { floatBinary([](float x, float y) { return std::pow(x, y); }); })
        .Case([&](vector::FMAOp f) {
          const std::vector<double> &x = operand(0), &y = operand(1), &z = operand(2);
          for (size_t i = 0; i < out.size(); ++i)
            out[i] = roundTo(element, std::fma(static_cast<float>(x[i]), static_cast<float>(y[i]),
                                               static_cast<float>(z[i])));
        })
        .Case([&](arith::AddIOp) { intBinary([](int64_t x, int64_t y) { return x + y; }); })
        .Case([&](arith::SubIOp) { intBinary([](int64_t x, int64_t y) { return x - y; }); })
        .Case([&](arith::MulIOp) { intBinary([](int64_t x, int64_t y) { return x * y; }); })
        .Case([&](arith::AndIOp) { intBinary([](int64_t x, int64_t y) { return x & y; }); })
        .Case([&](arith::OrIOp) { intBinary([](int64_t x, int64_t y) { return x | y; }); })
        .Case([&](arith::XOrIOp) { intBinary([](int64_t x, int64_t y) { return x ^ y; }); })
        .Case([&](arith::ShLIOp) { intBinary([](int64_t x, int64_t y) { return x << y; }); })
        .Case([&](arith::ShRUIOp) {
          unsignedBinary(op, [](Operation *, uint64_t x, uint64_t y) { return x >> y; });
        })
        .Case([&](arith::DivUIOp) {
          unsignedBinary(op, [&](Operation *o, uint64_t x, uint64_t y) { return x / divisor(o, y); });
        })
        .Case([&](arith::RemUIOp) {
          unsignedBinary(op, [&](Operation *o, uint64_t x, uint64_t y) { return x % divisor(o, y); });
        })
        .Case([&](arith::CeilDivUIOp) {
          unsignedBinary(op, [&](Operation *o, uint64_t x, uint64_t y) {
            return (x + divisor(o, y) - 1) / y;
          });
        })
        .Case([&](arith::MinUIOp) {
          unsignedBinary(op, [](Operation *, uint64_t x, uint64_t y) { return std::min(x, y); });
        })
        .Case([&](arith::MaxUIOp) {
          unsignedBinary(op, [](Operation *, uint64_t x, uint64_t y) { return std::max(x, y); });
        })
        .Case([&](arith::DivSIOp) {
          intBinary([&](int64_t x, int64_t y) {
            if (y == 0)
              fail(op, "division by zero");
            return x / y;
          });
        })
        .Case([&](arith::RemSIOp) {
          intBinary([&](int64_t x, int64_t y) {
            if (y == 0)
              fail(op, "division by zero");
            return x % y;
          });
        })
        .Case([&](arith::FloorDivSIOp) {
          intBinary([&](int64_t x, int64_t y) {
            if (y == 0)
              fail(op, "division by zero");
            int64_t q = x / y;
            return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
          });
        })
        .Case([&](arith::CeilDivSIOp) {
          intBinary([&](int64_t x, int64_t y) {
            if (y == 0)
              fail(op, "division by zero");
            int64_t q = x / y;
            return (x % y != 0 && ((x < 0) == (y < 0))) ? q + 1 : q;
          });
        })
        .Case([&](arith::MinSIOp) { intBinary([](int64_t x, int64_t y) { return std::min(x, y); }); })
        .Case([&](arith::MaxSIOp) { intBinary([](int64_t x, int64_t y) { return std::max(x, y); }); })
        .Case([&](arith::CmpIOp c) {
          Type operandType = elementOf(c.getLhs().getType());
          binary([&](double x, double y) -> double {
            int64_t a = wrapInt(operandType, static_cast<int64_t>(x));
            int64_t b = wrapInt(operandType, static_cast<int64_t>(y));
            uint64_t ua = asUnsigned(operandType, a), ub = asUnsigned(operandType, b);
            switch (c.getPredicate()) {
            case arith::CmpIPredicate::eq: return a == b;
            case arith::CmpIPredicate::ne: return a != b;
            case arith::CmpIPredicate::slt: return a < b;
            case arith::CmpIPredicate::sle: return a <= b;
            case arith::CmpIPredicate::sgt: return a > b;
            case arith::CmpIPredicate::sge: return a >= b;
            case arith::CmpIPredicate::ult: return ua < ub;
            case arith::CmpIPredicate::ule: return ua <= ub;
            case arith::CmpIPredicate::ugt: return ua > ub;
            case arith::CmpIPredicate::uge: return ua >= ub;
            }
            fail(op, "unknown predicate");
          });
        })
        .Case([&](arith::CmpFOp c) {
          binary([&](double x, double y) -> double {
            float a = static_cast<float>(x), b = static_cast<float>(y);
            bool unordered = std::isnan(a) || std::isnan(b);
            switch (c.getPredicate()) {
            case arith::CmpFPredicate::AlwaysFalse: return false;
            case arith::CmpFPredicate::OEQ: return !unordered && a == b;
            case arith::CmpFPredicate::OGT: return !unordered && a > b;
            case arith::CmpFPredicate::OGE: return !unordered && a >= b;
            case arith::CmpFPredicate::OLT: return !unordered && a < b;
            case arith::CmpFPredicate::OLE: return !unordered && a <= b;
            case arith::CmpFPredicate::ONE: return !unordered && a != b;
            case arith::CmpFPredicate::ORD: return !unordered;
            case arith::CmpFPredicate::UEQ: return unordered || a == b;
            case arith::CmpFPredicate::UGT: return unordered || a > b;
            case arith::CmpFPredicate::UGE: return unordered || a >= b;
            case arith::CmpFPredicate::ULT: return unordered || a < b;
            case arith::CmpFPredicate::ULE: return unordered || a <= b;
            case arith::CmpFPredicate::UNE: return unordered || a != b;
            case arith::CmpFPredicate::UNO: return unordered;
            case arith::CmpFPredicate::AlwaysTrue: return true;
            }
            fail(op, "unknown predicate");
          });
        })
        .Case([&](arith::SelectOp s) {
          const std::vector<double> &cond = operand(0), &x = operand(1), &y = operand(2);
          bool scalarCond = !isa<VectorType>(s.getCondition().getType());
          for (int64_t l = 0; l < lanes; ++l)
            for (int64_t e = 0; e < w; ++e) {
              double pick = scalarCond ? cond[l] : cond[l * w + e];
              out[l * w + e] = pick != 0 ? x[l * w + e] : y[l * w + e];
            }
        })
        .Case([&](arith::IndexCastOp) {
          unary([&](double x) { return static_cast<double>(wrapInt(element, static_cast<int64_t>(x))); });
        })
        .Case([&](arith::IndexCastUIOp c) {
          Type from = elementOf(c.getIn().getType());
          unary([&](double x) {
            return static_cast<double>(
                wrapInt(element, static_cast<int64_t>(asUnsigned(from, static_cast<int64_t>(x)))));
          });
        })
        .Case([&](arith::SIToFPOp) { unary([&](double x) { return roundTo(element, x); }); })
        .Case([&](arith::UIToFPOp c) {
          Type from = elementOf(c.getIn().getType());
          unary([&](double x) {
            return roundTo(element, static_cast<double>(asUnsigned(from, static_cast<int64_t>(x))));
          });
        })
        .Case([&](arith::ExtFOp) { unary([&](double x) { return x; }); })
        .Case([&](arith::TruncFOp) { unary([&](double x) { return roundTo(element, x); }); })
        .Case([&](arith::ExtUIOp c) {
          Type from = elementOf(c.getIn().getType());
          unary([&](double x) {
            return static_cast<double>(asUnsigned(from, static_cast<int64_t>(x)));
          });
        })
        .Case([&](arith::ExtSIOp) { unary([&](double x) { return x; }); })
        .Case([&](arith::TruncIOp) {
          unary([&](double x) { return static_cast<double>(wrapInt(element, static_cast<int64_t>(x))); });
        })
        .Case([&](gpu::ThreadIdOp t) {
          for (int64_t l = 0; l < lanes; ++l) {
            int64_t x = l % blockDims[0], y = (l / blockDims[0]) % blockDims[1],
                    z = l / (static_cast<int64_t>(blockDims[0]) * blockDims[1]);
            out[l] = static_cast<double>(t.getDimension() == gpu::Dimension::x   ? x
                                         : t.getDimension() == gpu::Dimension::y ? y
                                                                                 : z);
          }
        })
        .Case([&](gpu::BlockIdOp b) {
          std::fill(out.begin(), out.end(), static_cast<double>(id[static_cast<int>(b.getDimension())]));
        })
        .Case([&](gpu::BlockDimOp b) {
          std::fill(out.begin(), out.end(),
                    static_cast<double>(blockDims[static_cast<int>(b.getDimension())]));
        })
        .Case([&](gpu::GridDimOp b) {
          std::fill(out.begin(), out.end(), static_cast<double>(grid[static_cast<int>(b.getDimension())]));
        })
        .Case([&](vector::ReductionOp r) {
          const std::vector<double> &x = operand(0);
          int64_t n = widthOf(r.getVector().getType());
          for (int64_t l = 0; l < lanes; ++l) {
            float acc = static_cast<float>(x[l * n]);
            for (int64_t e = 1; e < n; ++e) {
              float v = static_cast<float>(x[l * n + e]);
              switch (r.getKind()) {
              case vector::CombiningKind::ADD: acc += v; break;
              case vector::CombiningKind::MUL: acc *= v; break;
              case vector::CombiningKind::MAXIMUMF: acc = std::max(acc, v); break;
              case vector::CombiningKind::MINIMUMF: acc = std::min(acc, v); break;
              default: fail(op, "unsupported reduction kind");
              }
            }
            if (r.getAcc())
              fail(op, "reductions with an accumulator are not modelled");
            out[l] = roundTo(element, acc);
          }
        })
        .Case([&](vector::ExtractOp x) {
          if (!x.getDynamicPosition().empty() || x.getStaticPosition().size() != 1)
            fail(op, "only a static position in a 1-D vector is modelled");
          const std::vector<double> &v = operand(0);
          int64_t n = widthOf(x.getSource().getType()), pos = x.getStaticPosition()[0];
          for (int64_t l = 0; l < lanes; ++l)
            out[l] = v[l * n + pos];
        })
        .Case([&](LLVM::ExtractValueOp x) {
          if (x.getPosition().size() != 1)
            fail(op, "only one position is modelled");
          const std::vector<double> &v = operand(0);
          int64_t n = widthOf(x.getContainer().getType()), pos = x.getPosition()[0];
          for (int64_t l = 0; l < lanes; ++l)
            out[l] = v[l * n + pos];
        })
        .Case([&](vector::FromElementsOp) {
          for (int64_t e = 0; e < w; ++e) {
            const std::vector<double> &v = operand(static_cast<unsigned>(e));
            for (int64_t l = 0; l < lanes; ++l)
              out[l * w + e] = v[l];
          }
        })
        .Case([&](vector::BroadcastOp b) {
          if (isa<VectorType>(b.getSource().getType()))
            fail(op, "only scalar broadcasts are modelled");
          const std::vector<double> &v = operand(0);
          for (int64_t l = 0; l < lanes; ++l)
            for (int64_t e = 0; e < w; ++e)
              out[l * w + e] = v[l];
        })
        .Case([&](vector::BitCastOp c) {
          // Through the bytes of each lane's vector.
          Type from = elementOf(c.getSource().getType());
          int64_t n = widthOf(c.getSource().getType());
          const std::vector<double> &v = operand(0);
          std::vector<uint8_t> bytes(static_cast<size_t>(n * byteSize(from)));
          for (int64_t l = 0; l < lanes; ++l) {
            for (int64_t e = 0; e < n; ++e)
              storeElement(from, bytes.data() + e * byteSize(from), v[l * n + e]);
            for (int64_t e = 0; e < w; ++e)
              out[l * w + e] = loadElement(element, bytes.data() + e * byteSize(element));
          }
        })
        .Case([&](arith::BitcastOp c) {
          // Each element's bits reinterpreted (same width).
          Type from = elementOf(c.getIn().getType());
          std::vector<uint8_t> bytes(static_cast<size_t>(byteSize(from)));
          unary([&](double x) {
            storeElement(from, bytes.data(), x);
            return loadElement(element, bytes.data());
          });
        })
        .Case([&](vector::ExtractStridedSliceOp x) {
          if (x.getOffsets().size() != 1 || x.hasNonUnitStrides())
            fail(op, "only unit-stride slices of a 1-D vector are modelled");
          const std::vector<double> &v = operand(0);
          int64_t n = widthOf(x.getSource().getType());
          int64_t offset = cast<IntegerAttr>(x.getOffsets()[0]).getInt();
          for (int64_t l = 0; l < lanes; ++l)
            for (int64_t e = 0; e < w; ++e)
              out[l * w + e] = v[l * n + offset + e];
        })
        .Default([&](Operation *) { fail(op, "not supported by the interpreter"); });
  }

  gpu::GPUFuncOp kernel;
  std::array<uint32_t, 3> grid, blockDims, id{0, 0, 0};
  /// Barriers passed so far in the current block.
  int64_t epoch = 0;
  int64_t subgroupSize;
  int64_t lanes;
  std::unordered_map<Value, std::vector<double>, ValueHash> values;
  llvm::DenseMap<Value, Memory> memories;
  std::vector<std::vector<uint8_t>> workgroup;
};

} // namespace

absl::Status runKernel(gpu::GPUFuncOp kernel, std::array<uint32_t, 3> grid,
                       std::array<uint32_t, 3> block, ArrayRef<KernelArg> args, int subgroupSize) {
  try {
    BlockInterpreter interpreter(kernel, grid, block, subgroupSize);
    interpreter.bindArguments(args);
    for (uint32_t z = 0; z < grid[2]; ++z)
      for (uint32_t y = 0; y < grid[1]; ++y)
        for (uint32_t x = 0; x < grid[0]; ++x)
          interpreter.run({x, y, z});
  } catch (const Failure &f) {
    return absl::InternalError(absl::StrCat(kernel.getName().str(), ": ", f.message));
  }
  return absl::OkStatus();
}

} // namespace llamac::emu
