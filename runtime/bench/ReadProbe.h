//===- ReadProbe.h - the machine's streaming read bandwidth -----*- C++ -*-===//
//
// Batch-1 decode reads every weight once per token, so its ceiling is the
// memory's read bandwidth. This probe measures that ceiling in the same run
// and on the same threads as the model: it sums a buffer far larger than the
// caches with a ranged dispatch replayed by the device (the model's own
// thread pool, whose idle workers sleep rather than spin), so the number it
// reports is what the model's kernels could reach, not a datasheet figure.
//
// The sum is a real checksum (every 64-bit word of the buffer, wrapping),
// checked against its closed form after every pass, so the compiler cannot
// drop the reads and a broken split of the range cannot go unnoticed.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_BENCH_READPROBE_H
#define LLAMAC_RUNTIME_BENCH_READPROBE_H

#include "runtime/hal/Device.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llamac::bench {

/// The loop that reads the buffer.
enum class ReadKernel {
  Generic, ///< portable C++, vectorized by the compiler for the baseline ISA
  Avx2,    ///< 256-bit loads, on CPUs with AVX2
  /// The same loop with `prefetcht1` 4 KiB ahead on each stream, as the
  /// decode kernels prefetch their next rows: the probe's choice on CPUs
  /// with AVX2 (without it the probe read 10-15% less than a prefetching
  /// reader could, and decode showed above 100% of it).
  Avx2Prefetch,
  /// GPU devices: a driver API device-to-device copy timed by events (no
  /// kernel of ours runs on a GPU); counts the bytes read and written.
  DeviceCopy,
};

/// "generic", "avx2", "avx2-prefetch" or "device-copy".
const char *readKernelName(ReadKernel kernel);

/// The widest kernel this CPU runs: on x86 a wider load keeps more bytes in
/// flight per instruction, which a single core needs to approach the DRAM
/// bandwidth that compiled model kernels (built for the native chip) reach.
ReadKernel bestReadKernel();

/// The wrapping sum of `words` 64-bit words. Any `words`; exposed so tests
/// can check each kernel against a plain loop.
uint64_t sumWords(const uint64_t *data, uint64_t words, ReadKernel kernel);

/// The wrapping sum of 0, 1, ..., words - 1: the checksum of the probe
/// buffer, whose word i holds i.
uint64_t expectedChecksum(uint64_t words);

struct ReadProbeOptions {
  /// Buffer size, rounded down to whole 4 KiB blocks; 0 = defaultProbeBytes
  /// for this machine (at least 1 GiB). Tests pass a few MiB.
  uint64_t bytes = 0;
  /// Timed passes after one untimed warm-up pass.
  int repeats = 5;
  ReadKernel kernel = bestReadKernel();
};

struct ReadProbeResult {
  uint64_t bytes = 0;
  int threads = 0;
  ReadKernel kernel = ReadKernel::Generic;
  /// One entry per timed pass: bytes / seconds / 1e9.
  std::vector<double> gbytesPerS;
  /// Of the last pass; every pass is checked against `expectedChecksum`.
  uint64_t checksum = 0;
};

/// Allocates and fills the buffer on `device`, then reads it 1 + repeats
/// times with one ranged dispatch per pass split over the device's threads.
/// Fails if the buffer cannot be allocated or a checksum is wrong. On a GPU
/// device (any but "cpu") it instead copies one buffer of `bytes` (default
/// 512 MiB) to another 1 + repeats times with the driver's copy, timed on
/// the device, and reports (read + written bytes) / time; `kernel` is then
/// DeviceCopy and there is no checksum.
absl::StatusOr<ReadProbeResult>
measureReadBandwidth(hal::Device &device, const ReadProbeOptions &options);

} // namespace llamac::bench

#endif // LLAMAC_RUNTIME_BENCH_READPROBE_H
