//===- DispatchSchedule.h - kernels and the order the runtime runs them -*- C++ -*-===//
//
// The compiler-side form of the artifact's dispatch schedule
// (docs/artifact-format.md): for each entry point, the activation buffers and
// the ordered kernel launches with their bindings.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_PARTITION_DISPATCHSCHEDULE_H
#define LLAMAC_COMPILER_PARTITION_DISPATCHSCHEDULE_H

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llamac {

/// What a kernel argument points at.
struct Binding {
  enum class Kind { Buffer, Weight, KCache, VCache, Tokens };
  Kind kind = Kind::Buffer;
  int64_t bufferId = -1;  ///< Kind::Buffer
  std::string weightName; ///< Kind::Weight
  bool perLayer = false;  ///< Kind::Weight: the current layer's slice

  bool operator==(const Binding &o) const {
    return kind == o.kind && bufferId == o.bufferId &&
           weightName == o.weightName && perLayer == o.perLayer;
  }
};

/// Static GPU launch dimensions (GPU targets only).
struct LaunchDims {
  std::array<int64_t, 3> grid{1, 1, 1};
  std::array<int64_t, 3> block{1, 1, 1};
  int64_t sharedBytes = 0;
};

/// One kernel launch.
struct Dispatch {
  std::string kernel;
  std::vector<Binding> bindings;
  /// "pos" or "layer", passed as int64 after the bindings.
  std::vector<std::string> scalars;
  /// When set, the kernel also takes [begin, end) within [0, *range).
  std::optional<int64_t> range;
  /// GPU targets: the grid and block the kernel is launched with.
  std::optional<LaunchDims> launch;
};

/// An activation buffer the runtime allocates (f32, row-major).
struct BufferDesc {
  int64_t id;
  std::vector<int64_t> shape;
};

struct EntryPointSchedule {
  std::string name;
  int64_t tokens = 0;
  /// Logits come back for every row (the only form the graphs compute
  /// today; "last" is reserved for graphs that project the last row only).
  bool allLogitRows = true;
  /// A GPU driver captures the entry point as a graph once and replays it
  /// (the per-token step).
  bool captureAsGraph = false;
  /// Every row's logits equal the one-token step's, bit for bit (the
  /// entry point carried `llama.rows_match_step`).
  bool rowsMatchStep = false;
  std::vector<BufferDesc> buffers;
  int64_t logitsBuffer = -1;
  std::vector<Dispatch> prologue, layerBody, epilogue;
};

} // namespace llamac

#endif // LLAMAC_COMPILER_PARTITION_DISPATCHSCHEDULE_H
