//===- Communicator.cpp - the single-process communicator -----------------===//

#include "runtime/comm/Communicator.h"

#include <cstdio>
#include <cstdlib>

namespace llamac::comm {

void SingleProcessCommunicator::abortAll(int exitCode) {
  std::fflush(nullptr);
  std::_Exit(exitCode);
}

} // namespace llamac::comm
