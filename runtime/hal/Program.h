//===- Program.h - a dispatch schedule bound to memory ----------*- C++ -*-===//
//
// The artifact's schedule with every name resolved: kernel names to function
// pointers, buffer ids and weight names to addresses. A driver replays it
// without looking anything up, which keeps the per-token cost of decode to
// filling argument arrays and calling kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_HAL_PROGRAM_H
#define LLAMAC_RUNTIME_HAL_PROGRAM_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llamac::hal {

/// The most arguments (bindings, scalars, begin and end) one kernel may take;
/// drivers keep argument arrays of this size on the stack.
inline constexpr size_t kMaxKernelArgs = 64;

/// The one signature every compiled kernel is called through.
using KernelFn = void (*)(void **args);

/// Where one kernel argument's value comes from when the dispatch runs.
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

/// One kernel launch.
struct BoundDispatch {
  std::string kernel; ///< for error messages and profiles
  KernelFn fn = nullptr;
  std::vector<ArgSource> args; ///< bindings, then scalars
  /// > 0: the kernel also takes int64 `begin, end` in [0, range) and the
  /// driver splits the range over its threads; 0: run once, on one thread.
  int64_t range = 0;
};

/// A whole entry point: prologue once, the layer body `layers` times, the
/// epilogue once.
struct Program {
  std::vector<BoundDispatch> prologue;
  std::vector<BoundDispatch> layerBody;
  std::vector<BoundDispatch> epilogue;
  int64_t layers = 0;
};

/// The per-call values of a run.
struct Invocation {
  int64_t pos = 0;
  /// Rows (tokens) of this call that hold real tokens; a prefill chunk's
  /// padding rows are not computed by rows-limited kernels.
  int64_t rows = 1;
};

} // namespace llamac::hal

#endif // LLAMAC_RUNTIME_HAL_PROGRAM_H
