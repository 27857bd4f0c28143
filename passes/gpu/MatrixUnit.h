//===- MatrixUnit.h - subgroup matrix multiply-accumulate --------*- C++ -*-===//
//
// The one target-specific piece of the prefill GEMM: a subgroup-wide
// D = A·B + C on the matrix units, with A (m×k) and B (k×n) in bf16 and C, D
// (m×n) in f32. Each lane holds a fragment of every matrix; a MatrixUnit says
// which elements and builds the loads and the multiply for its target:
//   nvvm:  mma.sync m16n8k16 (row.col, bf16 → f32), sm_80 and later;
//   rocdl: MFMA 16x16x16 bf16 (v_mfma_f32_16x16x16bf16_1k / _bf16), gfx90a
//          and later.
// The lane layouts are the vendors' (PTX ISA "Matrix Fragments for
// mma.m16n8k16"; AMD CDNA ISA, MFMA operand layout); docs/gpu-target.md
// lists them.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_GPU_MATRIXUNIT_H
#define LLAMAC_PASSES_GPU_MATRIXUNIT_H

#include "passes/gpu/GpuKernelBuilder.h"

#include <memory>
#include <utility>

namespace mlir::llama {

class MatrixUnit {
public:
  virtual ~MatrixUnit() = default;

  /// Tile shape of one multiply: D[m][n] += Σ_k A[m][k] · B[k][n].
  int64_t m = 0, n = 0, k = 0;
  /// f32 accumulator elements each lane holds (a vector<4xf32> on both).
  static constexpr int64_t kAccumulatorSize = 4;

  /// Reads `width` consecutive f32 elements of A at (row, col) of the tile,
  /// as vector<width x f32>. The unit rounds them to bf16.
  using ReadA = function_ref<Value(Value row, Value col, int64_t width)>;
  /// Reads `width` consecutive bf16 elements of Bᵀ at (column of B, row of
  /// B) of the tile, as vector<width x bf16>: B is a weight matrix stored
  /// [out features][in features], so a column of B is a weight row.
  using ReadB = function_ref<Value(Value column, Value row, int64_t width)>;

  /// This lane's fragment of A and of B.
  virtual Value loadA(GpuKernelBuilder &kb, Value lane, ReadA read) const = 0;
  virtual Value loadB(GpuKernelBuilder &kb, Value lane, ReadB read) const = 0;
  /// A zero accumulator fragment.
  Value zeroAccumulator(GpuKernelBuilder &kb) const;
  /// a · b + acc, every lane of the subgroup taking part (the subgroup must
  /// not be diverged here).
  virtual Value multiplyAdd(GpuKernelBuilder &kb, Value a, Value b, Value acc) const = 0;
  /// (row, column) in the m×n tile of accumulator element `element` of `lane`.
  virtual std::pair<Value, Value> accumulatorElement(GpuKernelBuilder &kb, Value lane,
                                                     int64_t element) const = 0;
};

/// The bf16 matrix unit of `target` ("nvvm" or "rocdl").
std::unique_ptr<MatrixUnit> getBf16MatrixUnit(const GpuTargetInfo &target);

} // namespace mlir::llama

#endif // LLAMAC_PASSES_GPU_MATRIXUNIT_H
