//===- MachineMemory.h - cache and memory sizes for the read probe -*- C++
//-*-===//
//
// The read probe must stream from DRAM, not from a cache: its buffer is at
// least 1 GiB or 4x the last-level cache, whichever is larger, but never so
// large that the machine starts swapping or the allocation fails. Parsers
// take text so that tests can feed them any sysfs or meminfo contents.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_BENCH_MACHINEMEMORY_H
#define LLAMAC_RUNTIME_BENCH_MACHINEMEMORY_H

#include "absl/strings/string_view.h"

#include <cstdint>

namespace llamac::bench {

/// A sysfs cache size ("32768K", "2M", "512"), in bytes; 0 when malformed.
uint64_t parseCacheSize(absl::string_view text);

/// The "MemAvailable:" line of /proc/meminfo, in bytes; 0 when missing.
uint64_t parseMemAvailable(absl::string_view meminfo);

/// The largest level-3 (else level-2) cache of cpu0 as sysfs reports it;
/// 0 when unknown.
uint64_t lastLevelCacheBytes();

/// MemAvailable of this machine; 0 when unknown.
uint64_t availableMemoryBytes();

/// max(1 GiB, 4 * llcBytes), capped at half of `availableBytes` (when
/// known) so the model and the rest of the machine keep their memory, and
/// rounded down to whole 4 KiB blocks. At least one block.
uint64_t defaultProbeBytes(uint64_t llcBytes, uint64_t availableBytes);

} // namespace llamac::bench

#endif // LLAMAC_RUNTIME_BENCH_MACHINEMEMORY_H
