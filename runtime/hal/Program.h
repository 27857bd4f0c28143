//===- Program.h - a dispatch schedule bound to memory ----------*- C++ -*-===//
//
// The artifact's schedule with every name resolved: kernel names to function
// pointers (CPU) or device function handles with launch shapes (GPU), buffer
// ids and weight names to device addresses. A driver replays it without
// looking anything up, which keeps the per-token cost of decode to filling
// argument arrays and calling kernels (CPU) or to one graph launch (GPU).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_PROGRAM_H
#define LLAMAC_RUNTIME_HAL_PROGRAM_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llamac::comm {
class Communicator;
} // namespace llamac::comm

namespace llamac::hal {

/// The most arguments (bindings, scalars, begin and end) one kernel may take;
/// drivers keep argument arrays of this size on the stack.
inline constexpr size_t kMaxKernelArgs = 64;

/// The one signature every compiled kernel is called through.
using KernelFn = void (*)(void **args);

/// Where one kernel argument's value comes from when the dispatch runs.
/// GPU drivers pass `Pos` and `Rows` as a device pointer to the int64 in
/// their {pos, rows} buffer (docs/artifact-format.md, "GPU targets"), the
/// others by value like the CPU driver.
struct ArgSource {
  enum class Kind {
    Pointer,    ///< `base` (activation buffer, whole weight, cache, tokens)
    LayerSlice, ///< `base + layer * layerStride` (stacked per-layer weight)
    Pos,        ///< the invocation's position, int64
    Layer,      ///< the current layer, int64
    Rows,       ///< the invocation's row (token) count, int64
  };
  Kind kind = Kind::Pointer;
  void *base = nullptr;
  uint64_t layerStride = 0;

  static ArgSource pointer(void *p) { return {Kind::Pointer, p, 0}; }
  static ArgSource layerSlice(const void *p, uint64_t stride) {
    return {Kind::LayerSlice, const_cast<void *>(p), stride};
  }
  static ArgSource pos() { return {Kind::Pos, nullptr, 0}; }
  static ArgSource layer() { return {Kind::Layer, nullptr, 0}; }
  static ArgSource rows() { return {Kind::Rows, nullptr, 0}; }
};

/// A GPU dispatch's static launch shape.
struct LaunchDims {
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  /// Dynamic shared memory (LDS) per block.
  uint32_t sharedBytes = 0;
};

/// The communication of a collective step (runtime::Collective, which the
/// HAL does not depend on).
enum class CollectiveKind { AllReduceSum, AllGatherColumns };

/// One kernel launch, or a collective step between launches.
struct BoundDispatch {
  std::string kernel; ///< for error messages and profiles
  KernelFn fn = nullptr;             ///< CPU driver
  void *deviceFunction = nullptr;    ///< GPU drivers: CUfunction / hipFunction_t
  LaunchDims launch;                 ///< GPU drivers
  std::vector<ArgSource> args; ///< bindings, then scalars
  /// > 0: the kernel also takes int64 `begin, end` in [0, range) and the
  /// driver splits the range over its threads; 0: run once, on one thread.
  int64_t range = 0;
  /// Set for a tensor-parallel collective step instead of a kernel, run by
  /// the communicator over its ranks on the device's memory (host memory
  /// for the CPU driver).
  comm::Communicator *communicator = nullptr;
  CollectiveKind collective = CollectiveKind::AllReduceSum;
  /// AllReduceSum: the `reduceCount` floats at `reduceData` become their
  /// sum over the ranks, in place.
  float *reduceData = nullptr;
  uint64_t reduceCount = 0;
  /// AllGatherColumns: every rank's [gatherRows, gatherColumns] part at
  /// `gatherPart` is gathered into `gatherOut`, [gatherRows, gatherColumns
  /// * ranks], rank r's in columns [r * gatherColumns, (r + 1) *
  /// gatherColumns) (Communicator::allGatherColumns).
  const float *gatherPart = nullptr;
  float *gatherOut = nullptr;
  uint64_t gatherRows = 0;
  uint64_t gatherColumns = 0;
  /// The part has a row per token of a call of several: the CPU driver
  /// gathers the rows the call fills only (`Invocation::rows`; the same on
  /// every rank), as its rows-limited kernels compute only those.
  bool gatherFilledRowsOnly = false;
};

/// The per-call values of a run.
struct Invocation {
  /// The first token's position.
  int64_t pos = 0;
  /// Rows (tokens) of this call that hold real tokens; a prefill chunk's
  /// padding rows are not computed by rows-limited kernels.
  int64_t rows = 1;
};

/// A whole entry point: prologue once, the layer body `layers` times, the
/// epilogue once.
struct Program {
  std::vector<BoundDispatch> prologue;
  std::vector<BoundDispatch> layerBody;
  std::vector<BoundDispatch> epilogue;
  int64_t layers = 0;
  /// GPU drivers capture the whole program once as a CUDA/HIP graph and
  /// replay it on every later run (decode: the per-token hot path); the
  /// CPU driver ignores it.
  bool captureAsGraph = false;
  /// What a driver keeps for this program between runs (the captured
  /// graph). Owned here so that it goes away with the program whose
  /// addresses it captured; the device must outlive the program.
  mutable std::shared_ptr<void> driverState;
  /// When set, the CPU driver calls it before each dispatch, with the
  /// layer it runs for: a compile-time tool reads the activations the
  /// dispatch is about to consume (llamac's GPTQ calibration,
  /// docs/quantization.md). GPU drivers refuse a program that has one.
  std::function<void(const BoundDispatch &, int64_t layer, const Invocation &)>
      beforeDispatch;
};


} // namespace llamac::hal

#endif // LLAMAC_RUNTIME_HAL_PROGRAM_H
