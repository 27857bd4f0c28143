//===- DispatchSchedule.h - kernels and the order the runtime runs them -*- C++ -*-===//
//
// The dispatch schedule the partitioner produces is the artifact's
// (docs/artifact-format.md): for each entry point, the activation buffers
// and the ordered kernel launches with their bindings. Its types are the
// runtime's (runtime/artifact/ArtifactSchema.h), declared once for both
// sides; the compiler fills them and the writer serializes them as they are.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_PARTITION_DISPATCHSCHEDULE_H
#define LLAMAC_COMPILER_PARTITION_DISPATCHSCHEDULE_H

#include "runtime/artifact/ArtifactSchema.h"

namespace llamac {

using runtime::Binding;
using runtime::BufferInfo;
using runtime::Dispatch;
using runtime::EntryPoint;
using runtime::LaunchInfo;
using runtime::Scalar;
using runtime::Schedule;

} // namespace llamac

#endif // LLAMAC_COMPILER_PARTITION_DISPATCHSCHEDULE_H
