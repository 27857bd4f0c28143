//===- MpiGatherProbe.cpp - one rank of the MPI all-gather test -----------===//
//
// Started by TensorParallelTest under `mpirun -np N`: every rank fills a
// part whose element (t, c) is 1000 * rank + 10 * t + c, gathers it with
// MpiCommunicator::allGatherColumns (3 rows of 4 columns, then 1 row of 5:
// a prefill's and a decode step's logits), and writes both outputs, in that
// order, to <out>.rank<R>.f32. The test checks every rank's file against
// the layout it computes itself. Exit 0 when every rank's gathers and
// writes succeeded.
//
//   llamac_mpi_gather_probe <out>
//
//===----------------------------------------------------------------------===//

#include "runtime/comm/MpiCommunicator.h"
#include "test/unit/MpiSanitizerHooks.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace llamac;

namespace {

/// One gather of this rank's part; its output appended to `out`.
absl::Status gatherInto(comm::Communicator &communicator, size_t rows, size_t columns,
                        std::vector<float> &out) {
  std::vector<float> part;
  for (size_t t = 0; t < rows; ++t)
    for (size_t c = 0; c < columns; ++c)
      part.push_back(1000.0f * communicator.rank() + 10.0f * t + c);
  // NaN where nothing was gathered: no layout check could pass over it.
  std::vector<float> gathered(rows * columns * communicator.size(), std::nanf(""));
  absl::Status s = communicator.allGatherColumns(part.data(), gathered.data(), rows, columns);
  out.insert(out.end(), gathered.begin(), gathered.end());
  return s;
}

absl::Status writeFile(const std::string &path, const std::vector<float> &values) {
  FILE *f = std::fopen(path.c_str(), "wb");
  bool ok = f && std::fwrite(values.data(), sizeof(float), values.size(), f) == values.size();
  if (f)
    ok = std::fclose(f) == 0 && ok;
  return ok ? absl::OkStatus() : absl::InternalError("cannot write " + path);
}

} // namespace

int main(int argc, char **argv) {
  auto mpi = comm::MpiCommunicator::initialize(&argc, &argv);
  if (!mpi.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(mpi.status().message()).c_str());
    return 1;
  }
  comm::Communicator &communicator = **mpi;
  if (argc != 2) {
    std::fprintf(stderr, "usage: llamac_mpi_gather_probe <out>\n");
    return 2;
  }
  std::vector<float> out;
  absl::Status s = gatherInto(communicator, 3, 4, out);
  if (s.ok())
    s = gatherInto(communicator, 1, 5, out);
  if (s.ok() && communicator.collectiveStats().allGathers != 2)
    s = absl::InternalError("the gathers were not counted");
  if (s.ok())
    s = writeFile(std::string(argv[1]) + ".rank" + std::to_string(communicator.rank()) + ".f32",
                  out);
  // Every rank learns of any rank's failure and exits with it.
  s = communicator.firstError(s);
  if (!s.ok()) {
    if (communicator.rank() == 0)
      std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
