//===- ReadProbe.cpp - the machine's streaming read bandwidth -------------===//

#include "runtime/bench/ReadProbe.h"
#include "runtime/bench/MachineMemory.h"

#include "absl/strings/str_cat.h"

#include <atomic>
#include <chrono>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace llamac::bench {

namespace {

/// The unit of the ranged dispatch: 4 KiB, 64 cache lines. The thread pool
/// splits the range into contiguous chunks, so each thread streams one
/// contiguous part of the buffer, as a split weight matrix would.
constexpr uint64_t kBlockBytes = 4096;
constexpr uint64_t kWordsPerBlock = kBlockBytes / sizeof(uint64_t);

/// Eight independent accumulators, one per word of a 64-byte line: no add
/// waits for the previous one, so the loop is bound by loads alone, and the
/// compiler turns it into vector adds for the baseline ISA.
uint64_t sumGeneric(const uint64_t *p, uint64_t words) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  uint64_t i = 0;
  for (; i + 8 <= words; i += 8) {
    a0 += p[i];
    a1 += p[i + 1];
    a2 += p[i + 2];
    a3 += p[i + 3];
    a4 += p[i + 4];
    a5 += p[i + 5];
    a6 += p[i + 6];
    a7 += p[i + 7];
  }
  for (; i < words; ++i)
    a0 += p[i];
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) inline __m256i load(const uint64_t *p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
}

/// How far ahead the prefetching loop asks for lines: 4 KiB, one block.
/// Prefetches past the end of the buffer are harmless (they never fault).
constexpr uint64_t kPrefetchWords = kBlockBytes / sizeof(uint64_t);

/// Two streams, the two halves of the range, each read a pair of cache lines
/// per iteration into four independent 256-bit accumulators. Two streams
/// per core measured 5-10% above one on our 2-core EPYC (40 vs 37 GB/s on
/// one thread, 46 vs 44 on two), and a matrix-vector kernel also reads
/// several weight rows at once; more streams gave nothing. With `Prefetch`,
/// each stream's pair of lines 4 KiB ahead is asked for into L2: on the
/// 2-vCPU Emerald Rapids VM two threads read 26-28 GB/s so against 22-24
/// without (bench/README.md), and the decode kernels prefetch too. Only
/// called after __builtin_cpu_supports("avx2").
template <bool Prefetch>
__attribute__((target("avx2"))) uint64_t sumAvx2(const uint64_t *p,
                                                 uint64_t words) {
  const uint64_t half = words / 32 * 16;
  const uint64_t *q = p + half;
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (uint64_t i = 0; i < half; i += 16) {
    if constexpr (Prefetch) {
      _mm_prefetch(reinterpret_cast<const char *>(p + i + kPrefetchWords), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char *>(p + i + kPrefetchWords + 8), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char *>(q + i + kPrefetchWords), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char *>(q + i + kPrefetchWords + 8), _MM_HINT_T1);
    }
    a0 = _mm256_add_epi64(a0, load(p + i));
    a1 = _mm256_add_epi64(a1, load(p + i + 4));
    a2 = _mm256_add_epi64(a2, load(p + i + 8));
    a3 = _mm256_add_epi64(a3, load(p + i + 12));
    b0 = _mm256_add_epi64(b0, load(q + i));
    b1 = _mm256_add_epi64(b1, load(q + i + 4));
    b2 = _mm256_add_epi64(b2, load(q + i + 8));
    b3 = _mm256_add_epi64(b3, load(q + i + 12));
  }
  __m256i sum = _mm256_add_epi64(
      _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)),
      _mm256_add_epi64(_mm256_add_epi64(b0, b1), _mm256_add_epi64(b2, b3)));
  uint64_t lanes[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(lanes), sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] +
         sumGeneric(p + 2 * half, words - 2 * half);
}
#endif

/// What the probe's kernels receive (binding 0).
struct ProbeContext {
  uint64_t *data = nullptr;
  ReadKernel kernel = ReadKernel::Generic;
  std::atomic<uint64_t> sum{0};
};

/// Packed calling convention of compiled kernels: args[i] points at the
/// i-th argument; here the context pointer, then begin and end blocks.
void readBlocks(void **args) {
  ProbeContext *ctx = *static_cast<ProbeContext **>(args[0]);
  int64_t begin = *static_cast<int64_t *>(args[1]);
  int64_t end = *static_cast<int64_t *>(args[2]);
  uint64_t sum = sumWords(ctx->data + begin * kWordsPerBlock,
                          (end - begin) * kWordsPerBlock, ctx->kernel);
  // One atomic add per thread and pass: nothing next to the reads.
  ctx->sum.fetch_add(sum, std::memory_order_relaxed);
}

/// Word i = i. Written by the threads that later read the same blocks, so
/// on a NUMA machine each thread's part is local to it (first touch), and
/// every page is really backed: an untouched anonymous page reads as the
/// shared zero page, which lives in cache.
void fillBlocks(void **args) {
  ProbeContext *ctx = *static_cast<ProbeContext **>(args[0]);
  uint64_t begin = *static_cast<int64_t *>(args[1]) * kWordsPerBlock;
  uint64_t end = *static_cast<int64_t *>(args[2]) * kWordsPerBlock;
  for (uint64_t i = begin; i < end; ++i)
    ctx->data[i] = i;
}

hal::Program oneDispatch(const char *name, hal::KernelFn fn, ProbeContext *ctx,
                         int64_t blocks) {
  hal::Program program;
  hal::BoundDispatch d;
  d.kernel = name;
  d.fn = fn;
  d.args = {hal::ArgSource::pointer(ctx)};
  d.range = blocks;
  program.prologue.push_back(std::move(d));
  return program;
}

} // namespace

const char *readKernelName(ReadKernel kernel) {
  switch (kernel) {
  case ReadKernel::Avx2:
    return "avx2";
  case ReadKernel::Avx2Prefetch:
    return "avx2-prefetch";
  case ReadKernel::DeviceCopy:
    return "device-copy";
  case ReadKernel::Generic:
    break;
  }
  return "generic";
}

ReadKernel bestReadKernel() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2"))
    return ReadKernel::Avx2Prefetch;
#endif
  return ReadKernel::Generic;
}

uint64_t sumWords(const uint64_t *data, uint64_t words, ReadKernel kernel) {
#if defined(__x86_64__)
  if (kernel == ReadKernel::Avx2)
    return sumAvx2<false>(data, words);
  if (kernel == ReadKernel::Avx2Prefetch)
    return sumAvx2<true>(data, words);
#endif
  return sumGeneric(data, words);
}

uint64_t expectedChecksum(uint64_t words) {
  // words * (words - 1) / 2 modulo 2^64: halve the even factor first so
  // the product's wrap-around is the sum's.
  if (words == 0)
    return 0;
  return words % 2 == 0 ? (words / 2) * (words - 1) : words * ((words - 1) / 2);
}

namespace {

/// GPU memory cannot be read by a host loop and the runtime has no kernels
/// of its own, so the probe is the driver's device-to-device copy. A copy
/// reads and writes every byte, so it moves twice the buffer.
absl::StatusOr<ReadProbeResult>
measureDeviceCopyBandwidth(hal::Device &device, const ReadProbeOptions &options) {
  const uint64_t bytes = options.bytes > 0 ? options.bytes : uint64_t(512) << 20;
  absl::StatusOr<std::unique_ptr<hal::Buffer>> src = device.allocate(bytes);
  if (!src.ok())
    return absl::ResourceExhaustedError(
        absl::StrCat("bandwidth probe: ", src.status().message()));
  absl::StatusOr<std::unique_ptr<hal::Buffer>> dst = device.allocate(bytes);
  if (!dst.ok())
    return absl::ResourceExhaustedError(
        absl::StrCat("bandwidth probe: ", dst.status().message()));
  ReadProbeResult result;
  result.bytes = bytes;
  result.threads = device.concurrency();
  result.kernel = ReadKernel::DeviceCopy;
  for (int pass = 0; pass <= options.repeats; ++pass) {
    absl::StatusOr<double> ms = device.timedCopyMs(**dst, **src, bytes);
    if (!ms.ok())
      return ms.status();
    if (pass > 0)
      result.gbytesPerS.push_back(*ms > 0 ? 2.0 * bytes / (*ms / 1e3) / 1e9
                                          : 0.0);
  }
  return result;
}

} // namespace

absl::StatusOr<ReadProbeResult>
measureReadBandwidth(hal::Device &device, const ReadProbeOptions &options) {
  if (options.repeats < 1)
    return absl::InvalidArgumentError("the read probe needs at least 1 pass");
  if (device.name() != "cpu")
    return measureDeviceCopyBandwidth(device, options);
  if (options.kernel == ReadKernel::Avx2 &&
      bestReadKernel() != ReadKernel::Avx2)
    return absl::FailedPreconditionError("this CPU has no AVX2");
  uint64_t bytes =
      options.bytes > 0
          ? options.bytes
          : defaultProbeBytes(lastLevelCacheBytes(), availableMemoryBytes());
  const int64_t blocks = static_cast<int64_t>(bytes / kBlockBytes);
  if (blocks < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "the read probe needs at least ", kBlockBytes, " bytes, not ", bytes));
  bytes = blocks * kBlockBytes;

  absl::StatusOr<std::unique_ptr<hal::Buffer>> buffer = device.allocate(bytes);
  if (!buffer.ok())
    return absl::ResourceExhaustedError(
        absl::StrCat("read probe: ", buffer.status().message()));
  ProbeContext ctx;
  ctx.data = static_cast<uint64_t *>((*buffer)->data());
  ctx.kernel = options.kernel;
  hal::Program fill = oneDispatch("bench_fill", fillBlocks, &ctx, blocks);
  hal::Program read = oneDispatch("bench_read", readBlocks, &ctx, blocks);
  if (absl::Status s = device.run(fill, {}); !s.ok())
    return s;

  ReadProbeResult result;
  result.bytes = bytes;
  result.threads = device.concurrency();
  result.kernel = options.kernel;
  const uint64_t expected = expectedChecksum(bytes / sizeof(uint64_t));
  for (int pass = 0; pass <= options.repeats; ++pass) {
    ctx.sum.store(0, std::memory_order_relaxed);
    auto start = std::chrono::steady_clock::now();
    if (absl::Status s = device.run(read, {}); !s.ok())
      return s;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    result.checksum = ctx.sum.load(std::memory_order_relaxed);
    if (result.checksum != expected)
      return absl::InternalError(
          absl::StrCat("read probe checksum ", result.checksum, " != expected ",
                       expected, " (the probe read the wrong bytes)"));
    if (pass > 0) // pass 0 warms the TLB and the prefetchers
      result.gbytesPerS.push_back(seconds > 0 ? bytes / seconds / 1e9 : 0.0);
  }
  return result;
}

} // namespace llamac::bench
