//===- CpuDevice.cpp - the CPU driver -------------------------------------===//

#include "runtime/hal/drivers/cpu/CpuDevice.h"
#include "runtime/comm/Communicator.h"
#include "runtime/artifact/KernelLibrary.h"

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>

namespace llamac::hal::cpu {

namespace {

/// Anonymous mappings: page-aligned (more than the 64 bytes promised),
/// zero-filled by the kernel, and only touched pages cost memory — a KV
/// cache sized for 4096 positions costs nothing until it is written.
class CpuBuffer : public Buffer {
public:
  CpuBuffer(void *base, uint64_t bytes, uint64_t mapped)
      : base(base), bytes(bytes), mapped(mapped) {}
  ~CpuBuffer() override { munmap(base, mapped); }
  void *data() override { return base; }
  uint64_t size() const override { return bytes; }

private:
  void *base;
  uint64_t bytes;
  uint64_t mapped;
};

/// Host memory the caller owns (the mapped artifact's weights): kernels
/// read it in place.
class HostView : public Buffer {
public:
  HostView(const void *base, uint64_t bytes)
      : base(const_cast<void *>(base)), bytes(bytes) {}
  void *data() override { return base; }
  uint64_t size() const override { return bytes; }

private:
  void *base;
  uint64_t bytes;
};

/// The artifact's kernel library, dlopen'ed from memory.
class CpuExecutable : public Executable {
public:
  CpuExecutable(std::unique_ptr<runtime::KernelLibrary> library, std::string variantSuffix)
      : library(std::move(library)), variantSuffix(std::move(variantSuffix)) {}
  absl::StatusOr<KernelHandle> lookup(absl::string_view kernel) const override {
    absl::StatusOr<runtime::PackedKernelFn> fn = absl::NotFoundError("");
    if (!variantSuffix.empty())
      fn = library->lookup(absl::StrCat(kernel, variantSuffix));
    if (!fn.ok())
      fn = library->lookup(kernel);
    if (!fn.ok())
      return fn.status();
    KernelHandle handle;
    handle.hostFn = *fn;
    return handle;
  }
  std::optional<std::string> signature(absl::string_view kernel) const override {
    return library->signature(kernel);
  }

private:
  std::unique_ptr<runtime::KernelLibrary> library;
  std::string variantSuffix;
};

/// One kernel argument's storage: args[i] points at one of these.
union Slot {
  void *ptr;
  int64_t value;
};

} // namespace

absl::StatusOr<std::unique_ptr<CpuDevice>> CpuDevice::create(int threads) {
  if (threads < 1 || threads > kMaxCpuThreads)
    return absl::InvalidArgumentError(
        absl::StrCat("--threads must be in [1, ", kMaxCpuThreads, "], not ",
                     threads));
  absl::StatusOr<std::unique_ptr<ThreadPool>> pool = ThreadPool::create(threads);
  if (!pool.ok())
    return pool.status();
  return std::unique_ptr<CpuDevice>(new CpuDevice(std::move(*pool)));
}

CpuDevice::CpuDevice(std::unique_ptr<ThreadPool> pool) : pool(std::move(pool)) {}

absl::StatusOr<std::unique_ptr<Buffer>> CpuDevice::allocate(uint64_t bytes) {
  // A zero-sized buffer still gets a valid, distinct address.
  uint64_t mapped = bytes == 0 ? 64 : bytes;
  void *base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED)
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot allocate ", bytes, " bytes: ", std::strerror(errno)));
  return std::unique_ptr<Buffer>(new CpuBuffer(base, bytes, mapped));
}

absl::StatusOr<std::unique_ptr<Buffer>>
CpuDevice::importConstant(const void *host, uint64_t bytes) {
  return std::unique_ptr<Buffer>(new HostView(host, bytes));
}

absl::Status CpuDevice::copyToDevice(Buffer &dst, uint64_t offset,
                                     const void *src, uint64_t bytes) {
  if (absl::Status s = checkCopyRange(dst.size(), offset, bytes); !s.ok())
    return s;
  if (bytes > 0)
    std::memcpy(static_cast<char *>(dst.data()) + offset, src, bytes);
  return absl::OkStatus();
}

absl::Status CpuDevice::copyToHost(void *dst, Buffer &src, uint64_t offset,
                                   uint64_t bytes) {
  if (absl::Status s = checkCopyRange(src.size(), offset, bytes); !s.ok())
    return s;
  if (bytes > 0)
    std::memcpy(dst, static_cast<const char *>(src.data()) + offset, bytes);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Executable>>
CpuDevice::loadExecutable(const ExecutableSource &source) {
  if (source.format != "elf-shared-object")
    return absl::InvalidArgumentError(
        absl::StrCat(source.name, ": the cpu device cannot load kernels in '",
                     source.format, "' format (it needs elf-shared-object)"));
  absl::StatusOr<std::unique_ptr<runtime::KernelLibrary>> library =
      runtime::KernelLibrary::load(source.code, source.name);
  if (!library.ok())
    return library.status();
  return std::unique_ptr<Executable>(new CpuExecutable(std::move(*library), source.variantSuffix));
}

absl::Status CpuDevice::runDispatch(const BoundDispatch &d, const Invocation &invocation,
                                    int64_t layer) {
  if (d.communicator && d.collective == CollectiveKind::AllGatherColumns) {
    // A prefill chunk's padding rows hold no logits: 3 tokens of a 128-row
    // chunk gather 3 rows.
    uint64_t rows = d.gatherRows;
    if (d.gatherFilledRowsOnly)
      rows = std::min<uint64_t>(rows, static_cast<uint64_t>(std::max<int64_t>(invocation.rows, 1)));
    return d.communicator->allGatherColumns(d.gatherPart, d.gatherOut, rows, d.gatherColumns);
  }
  if (d.communicator)
    return d.communicator->allReduceSum(d.reduceData, d.reduceCount);
  const size_t n = d.args.size();
  if (!d.fn)
    return absl::FailedPreconditionError(absl::StrCat(
        "kernel ", d.kernel, " has no host function (not bound for the cpu)"));
  if (n + (d.range > 0 ? 2 : 0) > kMaxKernelArgs)
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", d.kernel, " takes too many arguments"));
  Slot slots[kMaxKernelArgs];
  for (size_t i = 0; i < n; ++i) {
    const ArgSource &a = d.args[i];
    switch (a.kind) {
    case ArgSource::Kind::Pointer:
      slots[i].ptr = a.base;
      break;
    case ArgSource::Kind::LayerSlice:
      slots[i].ptr = static_cast<char *>(a.base) + layer * a.layerStride;
      break;
    case ArgSource::Kind::Pos:
      slots[i].value = invocation.pos;
      break;
    case ArgSource::Kind::Rows:
      slots[i].value = invocation.rows;
      break;
    case ArgSource::Kind::Layer:
      slots[i].value = layer;
      break;
    }
  }
  if (d.range <= 0) {
    void *args[kMaxKernelArgs];
    for (size_t i = 0; i < n; ++i)
      args[i] = &slots[i];
    d.fn(args);
    return absl::OkStatus();
  }
  pool->parallelFor(d.range, [&](int64_t begin, int64_t end) {
    // Each thread has its own begin/end, so its own copy of the slots.
    Slot local[kMaxKernelArgs];
    void *args[kMaxKernelArgs];
    std::memcpy(local, slots, n * sizeof(Slot));
    local[n].value = begin;
    local[n + 1].value = end;
    for (size_t i = 0; i < n + 2; ++i)
      args[i] = &local[i];
    d.fn(args);
  });
  return absl::OkStatus();
}

namespace {
/// The runs this thread is inside, innermost first: a dispatch observer may
/// run a model on another device, whose observer may come back to this one.
struct RunFrame {
  const CpuDevice *device;
  const RunFrame *outer;
};
thread_local const RunFrame *innermostRun = nullptr;
} // namespace

bool CpuDevice::runningOnThisThread() const {
  for (const RunFrame *frame = innermostRun; frame; frame = frame->outer)
    if (frame->device == this)
      return true;
  return false;
}

absl::Status CpuDevice::run(const Program &program,
                            const Invocation &invocation) {
  // runMutex is this thread's already: locking it again would never return.
  if (runningOnThisThread())
    return absl::FailedPreconditionError(
        "a program was run on the cpu device from inside one of its own dispatch "
        "observers (Session::observeDispatches): an observer must not run a session "
        "of a model on the same device");
  std::lock_guard<std::mutex> lock(runMutex);
  RunFrame frame{this, innermostRun};
  innermostRun = &frame;
  absl::Cleanup leaving = [&frame] { innermostRun = frame.outer; };
  return forEachDispatch(program, [&](const BoundDispatch &d, int64_t layer) {
    if (program.beforeDispatch)
      program.beforeDispatch(d, layer, invocation);
    return runDispatch(d, invocation, layer);
  });
}

} // namespace llamac::hal::cpu
