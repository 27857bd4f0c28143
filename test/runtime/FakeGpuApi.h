//===- FakeGpuApi.h - a GPU driver API in host memory -----------*- C++ -*-===//
//
// Test double for hal::gpu::GpuApi: "device memory" is host memory, copies
// are memcpy, and kernels are host functions registered by name that
// receive the launch's 8-byte parameters. Stream capture records launches
// into a graph that launchGraph replays, so the GPU device logic (argument
// passing, the {pos, rows} buffer, capture once / replay, error paths) is
// tested on machines with no GPU. Not model math.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_TEST_RUNTIME_FAKEGPUAPI_H
#define LLAMAC_TEST_RUNTIME_FAKEGPUAPI_H

#include "runtime/hal/drivers/gpu/GpuApi.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace llamac::test {

class FakeGpuApi : public hal::gpu::GpuApi {
public:
  using Params = std::vector<uint64_t>;

  struct Kernel {
    std::string name;
    int params = 0;
    std::function<void(const Params &)> body;
  };

  struct Launch {
    const Kernel *kernel;
    hal::LaunchDims dims;
    Params params;
  };

  /// Registers a kernel the next loaded module will contain.
  void addKernel(const std::string &name, int params,
                 std::function<void(const Params &)> body = {});

  // What the tests set.
  bool refuseCubin = false; ///< answer a cubin with NO_BINARY_FOR_GPU
  bool refusePtx = false;
  std::string failLaunchOf; ///< this kernel's launches fail

  // What the tests read.
  std::vector<Launch> directLaunches;
  int captures = 0;
  int graphLaunches = 0;
  int liveGraphs = 0;
  bool capturing = false;
  std::string lastImage; ///< the first bytes of the last module image
  size_t liveAllocations() const { return allocations.size(); }

  std::string deviceKind() const override { return "cuda"; }
  std::string codeFormat() const override { return "cubin"; }
  /// A recognizable address: tests check NCCL gets this stream.
  void *nativeStream() const override { return kFakeStream; }
  static inline void *const kFakeStream = reinterpret_cast<void *>(0x5742ea);
  absl::StatusOr<void *> allocate(uint64_t bytes) override;
  void release(void *address) override;
  absl::Status fillZero(void *dst, uint64_t bytes) override;
  absl::Status copyHostToDevice(void *dst, const void *src,
                                uint64_t bytes) override;
  absl::Status copyDeviceToHost(void *dst, const void *src,
                                uint64_t bytes) override;
  absl::Status copyDeviceToDevice(void *dst, const void *src,
                                  uint64_t bytes) override;
  absl::Status synchronize() override { return absl::OkStatus(); }
  absl::StatusOr<void *> loadModule(const void *image,
                                    bool *wrongArchitecture) override;
  void unloadModule(void *) override { --liveModules; }
  absl::StatusOr<void *> getFunction(void *module,
                                     const std::string &name) override;
  absl::Status allowSharedBytes(void *, uint32_t) override {
    return absl::OkStatus();
  }
  absl::Status launch(void *function, const hal::LaunchDims &dims,
                      void **params) override;
  absl::Status beginCapture() override;
  absl::StatusOr<void *> endCapture() override;
  absl::Status launchGraph(void *graph) override;
  void destroyGraph(void *graph) override;
  absl::StatusOr<double>
  timeOnStream(absl::FunctionRef<absl::Status()> enqueue) override;

  int liveModules = 0;

private:
  std::map<std::string, Kernel> kernels;
  std::set<char *> allocations;
  std::vector<Launch> captured;
};

} // namespace llamac::test

#endif // LLAMAC_TEST_RUNTIME_FAKEGPUAPI_H
