//===- BenchCommand.cpp - `llama-run bench` -------------------------------===//

#include "tools/llama-run/BenchCommand.h"
#include "runtime/bench/BenchReport.h"
#include "runtime/bench/ModelBench.h"
#include "tools/common/ToolErrors.h"
#include "tools/llama-run/BenchOptions.h"
#include "tools/llama-run/JsonLine.h"
#include "tools/llama-run/Ranks.h"


#include <cstdio>

namespace llamac::tools {

int runBenchCommand(const std::vector<std::string> &args) {
  absl::StatusOr<BenchCommandOptions> parsed = parseBenchOptions(args);
  if (!parsed.ok())
    return fail(2, parsed.status().message());
  BenchCommandOptions o = std::move(*parsed);
  if (o.help) {
    writeStandardOutput(benchUsage());
    return 0;
  }
  o.model.communicator = processCommunicator();
  o.model.gpuOrdinal = launchedLocalRank();
  absl::StatusOr<std::shared_ptr<const Model>> model =
      Model::load(o.artifact, o.model);
  absl::StatusOr<std::unique_ptr<Session>> session =
      model.ok() ? Session::create(*model)
                 : absl::StatusOr<std::unique_ptr<Session>>(model.status());
  // Under mpirun: one error for all ranks, from rank 0.
  if (absl::Status s = agreeAcrossRanks(session.status()); !s.ok())
    return fail(1, s.message());
  warnAboutIgnoredModelFlags(o.model, **model);
  std::unique_ptr<SpeculativeDecoder> speculative;
  if (o.speculation.enabled()) {
    absl::StatusOr<std::unique_ptr<SpeculativeDecoder>> opened =
        openSpeculation(**session, o.speculation, o.model);
    if (absl::Status s = agreeAcrossRanks(opened.status()); !s.ok())
      return fail(1, s.message());
    speculative = std::move(*opened);
    o.bench.speculative = speculative.get();
  }
  if (!o.quiet)
    o.bench.progress = [](std::string_view line) {
      std::fprintf(stderr, "bench: %.*s\n", static_cast<int>(line.size()),
                   line.data());
    };
  absl::StatusOr<bench::BenchResult> result = bench::runBench(**session, o.bench);
  if (!result.ok())
    return fail(
        result.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1,
        result.status().message());
  if (o.json)
    writeStandardOutput(jsonLine(bench::benchJson(*result)));
  else
    writeStandardOutput(bench::benchTable(*result));
  // main() reports a failed write to stdout.
  return 0;
}

} // namespace llamac::tools
