//===- TensorParallelProbe.cpp - one rank of the tensor-parallel e2e test -===//
//
// Started by TensorParallelE2ETest under `mpirun -np N`: every rank loads its
// shard of a tensor-parallel stories260K through the runtime API with an MPI
// communicator and runs every llama2.c reference prompt twice: greedy
// generation (prefill, then the decode step), and the reference token
// sequence fed one token at a time, keeping each step's logits. Rank 0
// writes the generated tokens (<out>.json) and the logits (<out>.f32, f32,
// cases in order); the test compares them with the single-process model.
//
//   tp_rank_probe <artifact> <out> [max-steps]
//
// With max-steps, only the prompts of at most that many steps run (a larger
// model's test keeps to the short ones).
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/comm/MpiCommunicator.h"
#include "test/e2e/ShortGreedyCases.h"
#include "test/unit/MpiSanitizerHooks.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace llamac;

namespace {

int fail(comm::Communicator &communicator, const std::string &message) {
  std::fprintf(stderr, "error: rank %d: %s\n", communicator.rank(), message.c_str());
  communicator.abortAll(1);
  return 1; // abortAll does not return; a virtual call's [[noreturn]] is not seen.
}

} // namespace

int main(int argc, char **argv) {
  auto mpi = comm::MpiCommunicator::initialize(&argc, &argv);
  if (!mpi.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(mpi.status().message()).c_str());
    return 1;
  }
  std::shared_ptr<comm::Communicator> communicator = std::move(*mpi);
  if (argc != 3 && argc != 4)
    return fail(*communicator, "usage: tp_rank_probe <artifact> <out> [max-steps]");
  std::string error;
  std::vector<testing::GreedyCase> cases =
      testing::shortGreedyCases(error, argc == 4 ? std::atoll(argv[3]) : 0);
  if (cases.empty())
    return fail(*communicator, error);

  ModelOptions options;
  options.threads = 1;
  options.communicator = communicator;
  auto model = Model::load(argv[1], options);
  if (!model.ok())
    return fail(*communicator, std::string(model.status().message()));
  auto session = Session::create(*model);
  if (!session.ok())
    return fail(*communicator, std::string(session.status().message()));

  nlohmann::json generated = nlohmann::json::array();
  std::vector<float> logits;
  for (const testing::GreedyCase &c : cases) {
    GenerateOptions generate;
    generate.temperature = 0;
    generate.maxNewTokens = c.steps + 1 - static_cast<int64_t>(c.promptTokenIds.size());
    auto result = (*session)->generate(c.prompt, generate);
    if (!result.ok())
      return fail(*communicator, std::string(result.status().message()));
    generated.push_back(result->generatedTokens);
    if (absl::Status s = (*session)->truncate(0); !s.ok())
      return fail(*communicator, std::string(s.message()));
    // Every token but the last, whose logits no reference step needs.
    for (size_t t = 0; t + 1 < c.tokenIds.size(); ++t) {
      const int token = c.tokenIds[t];
      auto row = (*session)->append({static_cast<int32_t>(token)});
      if (!row.ok())
        return fail(*communicator, std::string(row.status().message()));
      logits.insert(logits.end(), row->begin(), row->end());
    }
  }
  if (communicator->rank() == 0) {
    std::ofstream json(std::string(argv[2]) + ".json");
    json << generated.dump() << "\n";
    std::ofstream f32(std::string(argv[2]) + ".f32", std::ios::binary);
    f32.write(reinterpret_cast<const char *>(logits.data()),
              static_cast<std::streamsize>(logits.size() * sizeof(float)));
    if (!json || !f32)
      return fail(*communicator, std::string("cannot write ") + argv[2]);
  }
  return 0;
}
