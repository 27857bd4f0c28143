//===- EvalCommand.cpp - `llama-run eval` ---------------------------------===//

#include "tools/llama-run/EvalCommand.h"
#include "runtime/eval/Perplexity.h"
#include "tools/common/ToolErrors.h"
#include "tools/llama-run/EvalOptions.h"
#include "tools/llama-run/Ranks.h"
#include "tools/llama-run/TextFile.h"

#include "absl/strings/str_format.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <chrono>
#include <cstdio>

namespace llamac::tools {

namespace {

/// A progress line at most once a second, and after the last document.
auto progressPrinter() {
  using Clock = std::chrono::steady_clock;
  return [last = Clock::time_point()](int64_t done, int64_t total,
                                      int64_t tokens, double meanNll) mutable {
    Clock::time_point now = Clock::now();
    if (done != total && now - last < std::chrono::seconds(1))
      return;
    last = now;
    std::fprintf(stderr,
                 "eval: %lld/%lld documents, %lld tokens predicted, "
                 "perplexity so far %.4f\n",
                 static_cast<long long>(done), static_cast<long long>(total),
                 static_cast<long long>(tokens), std::exp(meanNll));
  };
}

} // namespace

int runEvalCommand(const std::vector<std::string> &args) {
  absl::StatusOr<EvalCommandOptions> parsed = parseEvalOptions(args);
  if (!parsed.ok())
    return fail(2, parsed.status().message());
  EvalCommandOptions o = std::move(*parsed);
  if (o.help) {
    writeStandardOutput(evalUsage());
    return 0;
  }
  absl::StatusOr<std::string> text = readTextFile(o.textPath, "text");
  if (!text.ok())
    return fail(1, text.status().message());
  o.model.communicator = processCommunicator();
  o.model.gpuOrdinal = launchedLocalRank();
  absl::StatusOr<std::shared_ptr<const Model>> model =
      Model::load(o.artifact, o.model);
  // Under mpirun: one error for all ranks, from rank 0.
  if (absl::Status s = agreeAcrossRanks(model.status()); !s.ok())
    return fail(1, s.message());
  warnAboutIgnoredModelFlags(o.model, **model);
  if (!o.quiet)
    o.eval.progress = progressPrinter();
  absl::StatusOr<eval::EvalResult> result =
      eval::evaluatePerplexity(*model, *text, o.eval);
  if (!result.ok())
    return fail(
        result.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1,
        result.status().message());
  const eval::EvalResult &r = *result;
  if (o.json) {
    nlohmann::json out = {{"perplexity", r.perplexity},
                          {"mean_nll", r.meanNll},
                          {"predicted_tokens", r.predictedTokens},
                          {"documents", r.documents},
                          {"truncated_documents", r.truncatedDocuments},
                          {"ctx", r.ctx},
                          {"seconds", r.seconds},
                          {"tokens_per_s", r.tokensPerS},
                          {"threads", (*model)->threads()}};
    writeStandardOutput(out.dump() + "\n");
  } else {
    writeStandardOutput(absl::StrFormat(
        "perplexity %.6f (mean NLL %.6f over %d predicted tokens, %d "
        "documents, %d cut to --ctx %d) in %.2f s, %.0f tok/s\n",
        r.perplexity, r.meanNll, r.predictedTokens, r.documents,
        r.truncatedDocuments, r.ctx, r.seconds, r.tokensPerS));
  }
  // A failed stdout is reported once, by main's finishStandardOutput.
  return 0;
}

} // namespace llamac::tools
