//===- Communicator.cpp - the default gather, one process's communicator --===//

#include "runtime/comm/Communicator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace llamac::comm {

absl::Status Communicator::gather(const float *part, float *out, size_t rows, size_t columns) {
  const size_t width = columns * static_cast<size_t>(size());
  std::fill_n(out, rows * width, 0.0f);
  for (size_t t = 0; t < rows; ++t)
    std::copy_n(part + t * columns, columns,
                out + t * width + static_cast<size_t>(rank()) * columns);
  return reduce(out, rows * width);
}

void SingleProcessCommunicator::abortAll(int exitCode) {
  std::fflush(nullptr);
  std::_Exit(exitCode);
}

} // namespace llamac::comm
