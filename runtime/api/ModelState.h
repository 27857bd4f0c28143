//===- ModelState.h - what a loaded Model holds (internal) ------*- C++ -*-===//
//
// Shared by Model.cpp, which fills it, and Session.cpp, which binds entry
// points to it. Not part of the installed API: it names runtime-internal
// types (DeviceWeights, the kernels' Executable).
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_API_MODELSTATE_H
#define LLAMAC_RUNTIME_API_MODELSTATE_H

#include "runtime/api/Model.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/generate/DeviceWeights.h"
#include "runtime/hal/Device.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <memory>

namespace llamac {

/// Declaration order is destruction order in reverse: the kernels and
/// weights live on the device, whose buffers point into the artifact's
/// mapping (CPU weights). The device may be shared with other models, and
/// outlives this one then.
struct Model::State {
  std::unique_ptr<runtime::Artifact> artifact;
  std::unique_ptr<Tokenizer> tokenizer;
  std::shared_ptr<hal::Device> device;
  std::unique_ptr<hal::Executable> kernels;
  std::unique_ptr<runtime::DeviceWeights> weights;
  /// prefillKernelsName(): the path prefill's projections take.
  std::string prefillKernels;
  int threads = 1;
  int64_t maxSeqLen = 0;
  double loadMs = 0;
};

} // namespace llamac

#endif // LLAMAC_RUNTIME_API_MODELSTATE_H
