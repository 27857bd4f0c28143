//===- llama-run.cpp - generate text with a compiled model ----------------===//
//
// A thin user of runtime/api/Session.h: one model, one session. The contract (docs/architecture.md, "The
// command line"): text streams to stdout; statistics go to stderr; `--json`
// prints one JSON object as the last line of stdout; errors are one
// `error: ...` line on stderr with exit status 2 for usage errors and 1 for
// everything else. `--chat` (ChatCommand.cpp) prints one JSON object per
// turn instead. `llama-run bench` (BenchCommand.cpp), `llama-run eval`
// (EvalCommand.cpp) and `llama-run check` (CheckCommand.cpp) keep the same
// contract.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/api/Speculative.h"
#include "runtime/artifact/Artifact.h"
#include "tools/llama-run/BenchCommand.h"
#include "tools/llama-run/ChatCommand.h"
#include "tools/llama-run/CheckCommand.h"
#include "tools/llama-run/EvalCommand.h"
#include "tools/common/ToolErrors.h"
#include "tools/common/Version.h"
#include "tools/llama-run/JsonLine.h"
#include "tools/llama-run/Options.h"
#include "tools/llama-run/Ranks.h"
#include "tools/llama-run/TextFile.h"
#include "tools/llama-run/TokenizeCommand.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

using llamac::tools::fail;

namespace {

std::atomic<bool> interrupted{false};

/// First Ctrl-C stops generation cleanly (stop reason "interrupted", stats
/// still printed, exit status 130); a second one kills as usual.
extern "C" void onInterrupt(int) {
  interrupted = true;
  std::signal(SIGINT, SIG_DFL);
}

bool writeOut(std::string_view text, bool flush = false) {
  return llamac::tools::writeStandardOutput(text, flush);
}

int run(int argc, char **argv);

} // namespace

int main(int argc, char **argv) {
  llamac::tools::installToolErrorHandlers();
  // A closed pipe (`llama-run ... | head`) must not kill us by SIGPIPE; the
  // write error is noticed, generation stops and the exit status says so.
  std::signal(SIGPIPE, SIG_IGN);
  // Under mpirun: one rank of a tensor-parallel run (Ranks.h).
  absl::StatusOr<std::shared_ptr<llamac::comm::Communicator>> ranks =
      llamac::tools::joinLaunchedRanks(&argc, &argv);
  if (!ranks.ok())
    return fail(1, ranks.status().message());
  std::shared_ptr<llamac::comm::Communicator> communicator = *ranks;
  llamac::tools::processCommunicator() = communicator;
  if (communicator)
    llamac::tools::printOnlyOnRankZero(*communicator);
  // However it is named (--prompt -, --prompt-file /dev/stdin, eval's
  // --text -): TextFile.h.
  if (communicator && communicator->size() > 1)
    llamac::tools::refuseStandardInput(
        "mpirun gives standard input to rank 0 only; name a file under mpirun");
  int status = llamac::tools::finishStandardOutput(run(argc, argv));
  // A rank that failed alone must not leave the others waiting in an
  // all-reduce; failures the ranks agreed on end every rank already.
  if (status != 0 && communicator && communicator->size() > 1 &&
      llamac::tools::ranksMayBeInCollectives())
    communicator->abortAll(status);
  llamac::tools::processCommunicator().reset();
  return status;
}

namespace {

int run(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // `llama-run bench|eval ...`; an artifact named "bench" or "eval" is still
  // reachable as ./bench or ./eval.
  if (!args.empty() && args[0] == "--version") {
    if (args.size() > 1)
      return fail(2, "--version takes nothing after it, got '" + args[1] + "'");
    writeOut(llamac::tools::versionLine("llama-run") + "\n");
    return 0;
  }
  if (!args.empty() && args[0] == "bench")
    return llamac::tools::runBenchCommand(
        std::vector<std::string>(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "check")
    return llamac::tools::runCheckCommand(
        std::vector<std::string>(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "eval")
    return llamac::tools::runEvalCommand(
        std::vector<std::string>(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "tokenize")
    return llamac::tools::runTokenizeCommand(
        std::vector<std::string>(args.begin() + 1, args.end()));
  // `llama-run perplexity model.llamac`: a mistyped command would otherwise
  // be taken for the artifact and the real artifact reported as a second
  // one. A word with no '/' or '.' that is no file, followed by another
  // argument, is a command.
  if (args.size() >= 2 && !args[0].empty() && args[0][0] != '-' && args[1][0] != '-' &&
      args[0].find_first_of("/.") == std::string::npos && access(args[0].c_str(), F_OK) != 0)
    return fail(2, "unknown command '" + args[0] +
                       "' (commands: bench, check, eval, tokenize; or give an artifact to "
                       "generate text, see --help)");
  const auto &ranks = llamac::tools::processCommunicator();
  absl::StatusOr<llamac::tools::RunOptions> parsed =
      llamac::tools::parseRunOptions(args);
  if (!parsed.ok())
    return fail(2, parsed.status().message());
  llamac::tools::RunOptions &o = *parsed;
  // Accepted (a script may pass them whatever the temperature), but said:
  // greedy decoding samples nothing.
  if (!o.ignoredSamplingFlags.empty())
    std::fprintf(stderr,
                 "warning: %s %s no effect at temperature 0 (greedy decoding); give "
                 "--temperature above 0 to sample\n",
                 absl::StrJoin(o.ignoredSamplingFlags, ", ").c_str(),
                 o.ignoredSamplingFlags.size() == 1 ? "has" : "have");
  if (ranks && ranks->size() > 1 && o.chat)
    return fail(2, "--chat reads stdin, which mpirun gives to rank 0 only; chat runs in one "
                   "process (compile without --tp)");
  if (o.chat) {
    if (llamac::tools::standardInputWasClosed())
      return fail(1, "--chat reads its turns from standard input, which is closed");
    o.model.singleProcessReason = "--chat runs in one process";
  }
  o.model.communicator = llamac::tools::processCommunicator();
  o.model.gpuOrdinal = llamac::tools::launchedLocalRank();
  if (o.help) {
    writeOut(llamac::tools::usage());
    return 0;
  }

  absl::StatusOr<std::shared_ptr<const llamac::Model>> model =
      llamac::Model::load(o.artifact, o.model);
  absl::StatusOr<std::unique_ptr<llamac::Session>> session =
      model.ok() ? llamac::Session::create(*model)
                 : absl::StatusOr<std::unique_ptr<llamac::Session>>(model.status());
  // Under mpirun: one error for all ranks, from rank 0.
  if (absl::Status s = llamac::tools::agreeAcrossRanks(session.status()); !s.ok())
    return fail(1, s.message());
  llamac::tools::warnAboutIgnoredModelFlags(o.model, **model);
  if (o.chat)
    return llamac::tools::runChat(o, **model, **session);
  // With --draft or --prompt-lookup, the same session speculates.
  std::unique_ptr<llamac::SpeculativeDecoder> speculative;
  if (o.speculation.enabled()) {
    absl::StatusOr<std::unique_ptr<llamac::SpeculativeDecoder>> opened =
        llamac::tools::openSpeculation(**session, o.speculation, o.model);
    if (absl::Status s = llamac::tools::agreeAcrossRanks(opened.status()); !s.ok())
      return fail(1, s.message());
    speculative = std::move(*opened);
  }

  std::signal(SIGINT, onInterrupt);
  // Like llama2.c: the prompt, then its continuation. The prompt is shown
  // once it has been accepted (with the first token, or after a run that
  // made none), so a refused one (too long for the context) leaves stdout
  // empty.
  bool promptShown = o.json;
  auto showPrompt = [&] {
    if (promptShown)
      return true;
    promptShown = true;
    return writeOut(o.prompt, /*flush=*/true);
  };
  // Stops at the first failed write: generating text nobody can read is
  // wasted work, and main() reports the failure.
  auto onToken = [&](int, std::string_view text) {
    if (!o.json && !(showPrompt() && writeOut(text, /*flush=*/true)))
      return false;
    return !interrupted.load();
  };
  absl::StatusOr<llamac::GenerateResult> result =
      speculative ? speculative->generate(o.prompt, o.generate, onToken)
                  : (*session)->generate(o.prompt, o.generate, onToken);
  if (!result.ok()) {
    if (!o.json && promptShown)
      writeOut("\n", /*flush=*/true);
    return fail(1, result.status().message());
  }
  showPrompt();

  const llamac::GenerateStats &st = result->stats;
  // What ends the output: the streamed text's newline, or the one object
  // of --json.
  std::string end = "\n";
  if (o.json) {
    nlohmann::json out;
    out["prompt_token_ids"] = result->promptTokens;
    out["generated_token_ids"] = result->generatedTokens;
    out["text"] = result->text;
    out["stop_reason"] =
        std::string(llamac::stopReasonName(result->stopReason));
    out["stats"] = {{"prefill_tokens_per_s", st.prefillTokensPerS},
                    {"decode_tokens_per_s", st.decodeTokensPerS},
                    {"time_to_first_token_ms", st.timeToFirstTokenMs},
                    {"weight_bytes", st.weightBytes},
                    {"artifact_weight_bytes", st.artifactWeightBytes},
                    {"decode_gbytes_per_s", st.decodeGBytesPerS},
                    {"kv_cache_bytes", st.kvCacheBytes},
                    {"kv_bytes_per_decode_step", st.kvBytesPerDecodeStep},
                    {"load_ms", st.loadMs},
                    {"prefill_tokens", st.prefillTokens},
                    {"decode_tokens", st.decodeTokens},
                    {"threads", (*model)->threads()}};
    out["model"] = {{"chip", (*model)->artifact().target().chip},
                    {"kv_dtype", std::string((*model)->kvDtype())},
                    {"prefill_kernels", (*model)->prefillKernels()}};
    if (const auto &spec = st.speculative)
      out["stats"]["speculative"] = {
          {"draft", spec->draft},
          {"k", spec->k},
          {"proposed", spec->proposed},
          {"accepted", spec->accepted},
          {"acceptance_rate", spec->acceptanceRate},
          {"target_passes", spec->targetPasses},
          {"accepted_histogram", spec->acceptedHistogram}};
    end = llamac::tools::jsonLine(out);
  }
  // A run whose output was lost is a failure: main() prints its one error
  // line, and no statistics line says how well it went.
  if (!writeOut(end, /*flush=*/true))
    return 1;

  if (!o.quiet) {
    std::fprintf(
        stderr,
        "load %.1f ms, time to first token %.1f ms, prefill %lld "
        "tokens at %.1f tok/s, decode %lld tokens at %.1f tok/s "
        "(%.2f GB/s of %.1f MB weights), %d threads, stop: %s\n",
        st.loadMs, st.timeToFirstTokenMs,
        static_cast<long long>(st.prefillTokens), st.prefillTokensPerS,
        static_cast<long long>(st.decodeTokens), st.decodeTokensPerS,
        st.decodeGBytesPerS, st.weightBytes / 1e6, (*model)->threads(),
        std::string(llamac::stopReasonName(result->stopReason)).c_str());
    if (const auto &spec = st.speculative) {
      std::string histogram;
      for (size_t m = 0; m < spec->acceptedHistogram.size(); ++m)
        histogram += absl::StrFormat("%s%d:%lld", m ? " " : "", static_cast<int>(m),
                                     static_cast<long long>(spec->acceptedHistogram[m]));
      std::fprintf(stderr,
                   "speculative (%s, k %lld): %lld of %lld draft tokens accepted "
                   "(%.1f%%), %lld target passes for %zu tokens; rounds by tokens "
                   "accepted: %s\n",
                   spec->draft.c_str(), static_cast<long long>(spec->k),
                   static_cast<long long>(spec->accepted),
                   static_cast<long long>(spec->proposed), 100.0 * spec->acceptanceRate,
                   static_cast<long long>(spec->targetPasses),
                   result->generatedTokens.size(), histogram.c_str());
    }
  }
  // The text so far and its statistics are out, but the run is not whole: a
  // script must not take it for a finished one. 130 = 128 + SIGINT, as a
  // shell reports a command that SIGINT ended.
  return result->stopReason == llamac::StopReason::Interrupted ? 130 : 0;
}

} // namespace
