//===- BenchReport.cpp - a benchmark result as JSON and as a table --------===//

#include "runtime/bench/BenchReport.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace llamac::bench {

namespace {

/// `key`, `key_min` and `key_max`.
void putSummary(nlohmann::ordered_json &j, const std::string &key,
                const Summary &s) {
  j[key] = s.median;
  j[key + "_min"] = s.min;
  j[key + "_max"] = s.max;
}

/// One table line: label, median, min, max.
std::string row(absl::string_view label, const Summary &s, int decimals = 1) {
  std::string out = absl::StrFormat("  %-38s", label);
  for (double v : {s.median, s.min, s.max})
    out += absl::StrFormat("%12.*f", decimals, v);
  return out + "\n";
}

Summary scaled(Summary s, double factor) {
  return {s.median * factor, s.min * factor, s.max * factor};
}

std::string megabytes(double bytes) {
  return absl::StrFormat("%.2f MB", bytes / 1e6);
}

/// "1 all-gather", "10 all-reduces": a per-step count (a mean) with its noun.
std::string counted(double count, const char *noun) {
  return absl::StrFormat("%.0f %s%s", count, noun, count == 1 ? "" : "s");
}

/// A kernel profile: one line per kernel, slowest first.
std::string profileTable(const KernelProfile &p) {
  std::string out = absl::StrFormat(
      "\nkernel profile, %s of %lld tokens: %.2f ms per run (mean of %d)\n"
      "  %10s %7s %7s  %-12s %s\n",
      p.phase, static_cast<long long>(p.tokens), p.runMs, p.runs, "ms/run", "share", "calls",
      "entry point", "kernel");
  for (const KernelTime &k : p.kernels)
    out += absl::StrFormat("  %10.3f %6.1f%% %7lld  %-12s %s\n", k.ms, 100.0 * k.share,
                           static_cast<long long>(k.calls), k.entryPoint, k.kernel);
  return out;
}

} // namespace

nlohmann::ordered_json benchJson(const BenchResult &r) {
  nlohmann::ordered_json model = {
      {"dim", r.model.dim},
      {"hidden_dim", r.model.hiddenDim},
      {"layers", r.model.layers},
      {"heads", r.model.heads},
      {"kv_heads", r.model.kvHeads},
      {"head_dim", r.model.headDim},
      {"vocab", r.model.vocab},
      {"max_seq_len", r.model.maxSeqLen},
      {"weight_dtype", r.traffic.weightDtype},
      {"kv_dtype", r.kvDtype},
      {"chip", r.chip},
      {"bf16_dot", r.bf16Dot},
      {"int_dot", r.intDot},
      {"prefill_kernels", r.prefillKernels},
      {"artifact_weight_bytes", r.traffic.artifactWeightBytes},
  };

  // The headline numbers first, each with its spread; details after.
  nlohmann::ordered_json stats = nlohmann::ordered_json::object();
  putSummary(stats, "decode_tokens_per_s", r.decodeTokensPerS);
  putSummary(stats, "decode_gbytes_per_s", r.decodeGBytesPerS);
  Summary prefillRate =
      r.prefill.empty() ? Summary{} : r.prefill.front().tokensPerS;
  putSummary(stats, "prefill_tokens_per_s", prefillRate);
  putSummary(stats, "time_to_first_token_ms", r.timeToFirstTokenMs);
  stats["weight_bytes"] = r.traffic.weightBytesPerStep;
  putSummary(stats, "measured_read_gbytes_per_s", r.readGBytesPerS);
  stats["bandwidth_fraction"] = r.bandwidthFraction;

  stats["repeats"] = r.repeats;
  stats["prefill_tokens"] = r.prefill.empty() ? 0 : r.prefill.front().tokens;
  nlohmann::ordered_json prefill = nlohmann::ordered_json::array();
  for (const PrefillMeasurement &m : r.prefill) {
    nlohmann::ordered_json p = {{"tokens", m.tokens}};
    putSummary(p, "tokens_per_s", m.tokensPerS);
    putSummary(p, "ms", m.ms);
    prefill.push_back(p);
  }
  stats["prefill"] = prefill;
  stats["decode_prompt_tokens"] = r.decodePromptTokens;
  stats["decode_tokens"] = r.decodeTokens;
  stats["weight_bytes_note"] =
      r.traffic.embeddingBytesExcluded > 0
          ? absl::StrCat("weights the decode step binds; ", runtime::kEmbeddingWeight,
                         " counted as the one row the step reads")
          : std::string("weights the decode step binds");
  stats["embedding_bytes_excluded"] = r.traffic.embeddingBytesExcluded;
  stats["decode_average_context"] = r.decodeAverageContext;
  stats["kv_cache_bytes_per_step"] = r.kvCacheBytesPerStep;
  stats["kv_cache_bytes"] = r.kvCacheBytes;
  if (r.verifyCost) {
    const VerifyCost &v = *r.verifyCost;
    nlohmann::ordered_json verify = {{"tokens", v.tokens}, {"position", v.position}};
    putSummary(verify, "ms", v.verifyMs);
    putSummary(verify, "decode_step_ms", v.decodeStepMs);
    verify["cost_in_decode_steps"] = v.ratio;
    putSummary(verify, "cpu_ms", v.verifyCpuMs);
    putSummary(verify, "decode_step_cpu_ms", v.decodeStepCpuMs);
    verify["cpu_cost_in_decode_steps"] = v.cpuRatio;
    stats["verify"] = verify;
  }
  if (r.tensorParallel) {
    const TensorParallelCost &tp = *r.tensorParallel;
    nlohmann::ordered_json cost = {{"ranks", tp.ranks},
                                   {"communicator", tp.communicator},
                                   {"weight_bytes_per_rank", r.traffic.weightBytesPerStep},
                                   {"all_reduces_per_step", tp.allReducesPerStep},
                                   {"all_reduce_bytes_per_step", tp.bytesPerStep}};
    if (tp.timed) {
      putSummary(cost, "all_reduce_ms_per_step", tp.allReduceMsPerStep);
      putSummary(cost, "all_reduce_share_of_decode", tp.allReduceShare);
    } else {
      cost["all_reduce_timed"] = false;
    }
    // After the all-reduces' fields, which keep their places.
    cost["all_gathers_per_step"] = tp.allGathersPerStep;
    cost["all_gather_bytes_per_step"] = tp.gatherBytesPerStep;
    if (tp.timed) {
      putSummary(cost, "all_gather_ms_per_step", tp.allGatherMsPerStep);
      putSummary(cost, "all_gather_share_of_decode", tp.allGatherShare);
    }
    stats["tensor_parallel"] = cost;
  }
  if (r.speculative) {
    const SpeculativeBenchResult &s = *r.speculative;
    nlohmann::ordered_json spec = {{"draft", s.stats.draft},
                                   {"k", s.stats.k},
                                   {"prompt_tokens", s.promptTokens},
                                   {"tokens", s.tokens}};
    putSummary(spec, "plain_decode_tokens_per_s", s.plainTokensPerS);
    putSummary(spec, "speculative_decode_tokens_per_s", s.speculativeTokensPerS);
    spec["speedup"] = s.speedup;
    spec["proposed"] = s.stats.proposed;
    spec["accepted"] = s.stats.accepted;
    spec["acceptance_rate"] = s.stats.acceptanceRate;
    spec["target_passes"] = s.stats.targetPasses;
    spec["accepted_histogram"] = s.stats.acceptedHistogram;
    spec["identical_tokens"] = s.identical;
    if (!s.referenceRuns.empty()) {
      nlohmann::ordered_json runs = nlohmann::ordered_json::array();
      for (const SpeculativeBenchResult::ReferenceRun &run : s.referenceRuns) {
        nlohmann::ordered_json j = {{"changed_every", run.every}};
        putSummary(j, "decode_tokens_per_s", run.tokensPerS);
        j["speedup"] = run.speedup;
        j["proposed"] = run.stats.proposed;
        j["accepted"] = run.stats.accepted;
        j["acceptance_rate"] = run.stats.acceptanceRate;
        j["target_passes"] = run.stats.targetPasses;
        j["identical_tokens"] = run.identical;
        runs.push_back(j);
      }
      spec["lookup_reference"] = runs;
    }
    stats["speculative"] = spec;
  }
  if (!r.profiles.empty()) {
    nlohmann::ordered_json profiles = nlohmann::ordered_json::object();
    for (const KernelProfile &p : r.profiles) {
      nlohmann::ordered_json kernels = nlohmann::ordered_json::array();
      for (const KernelTime &k : p.kernels)
        kernels.push_back({{"entry_point", k.entryPoint},
                           {"kernel", k.kernel},
                           {"calls", k.calls},
                           {"ms", k.ms},
                           {"share", k.share}});
      profiles[p.phase] = {{"tokens", p.tokens},
                           {"runs", p.runs},
                           {"ms_per_run", p.runMs},
                           {"kernels", kernels}};
    }
    stats["kernel_profile"] = profiles;
  }
  stats["read_probe"] = {{"bytes", r.probe.bytes},
                         {"threads", r.probe.threads},
                         {"kernel", readKernelName(r.probe.kernel)},
                         {"checksum", r.probe.checksum}};

  return {{"artifact", r.artifact},
          {"threads", r.threads},
          {"model", model},
          {"stats", stats}};
}

std::string benchTable(const BenchResult &r) {
  std::string out = absl::StrFormat(
      "%s: %lld layers, dim %lld, vocab %lld, %s weights%s, %s KV cache, chip %s, prefill on %s\n"
      "%d threads, %d timed runs each (after one warm-up)\n\n",
      r.artifact, static_cast<long long>(r.model.layers),
      static_cast<long long>(r.model.dim),
      static_cast<long long>(r.model.vocab), r.traffic.weightDtype,
      r.intDot                        ? " (vpdpbusd)"
      : !r.bf16Dot                    ? ""
      : absl::StartsWith(r.chip, "sm_") ? " (mma.sync prefill)"
      : absl::StartsWith(r.chip, "gfx") ? " (MFMA prefill)"
                                        : " (bf16-rounded activations)",
      r.kvDtype, r.chip, r.prefillKernels,
      r.threads, r.repeats);
  out += absl::StrFormat("  %-38s%12s%12s%12s\n", "", "median", "min", "max");
  for (const PrefillMeasurement &m : r.prefill)
    out += row(absl::StrCat("prefill ", m.tokens, " tokens (tok/s)"),
               m.tokensPerS);
  out += row(absl::StrCat("time to first token, ",
                          r.timeToFirstTokenPromptTokens, " tokens (ms)"),
             r.timeToFirstTokenMs, 2);
  out += row(absl::StrCat("decode ", r.decodeTokens, " tokens after ",
                          r.decodePromptTokens, " (tok/s)"),
             r.decodeTokensPerS);
  out += row("decode traffic, weights + KV (GB/s)", r.decodeGBytesPerS, 2);
  out += row("measured read bandwidth (GB/s)", r.readGBytesPerS, 2);
  if (r.verifyCost) {
    const VerifyCost &v = *r.verifyCost;
    out += row(absl::StrCat("verify ", v.tokens, " tokens at ", v.position, " (ms)"),
               v.verifyMs, 2);
    out += row(absl::StrCat("decode step at ", v.position, " (ms)"), v.decodeStepMs, 2);
    out += row("verify, CPU ms of all threads", v.verifyCpuMs, 2);
    out += row("decode step, CPU ms of all threads", v.decodeStepCpuMs, 2);
  }
  if (r.tensorParallel && r.tensorParallel->timed) {
    out += row("all-reduce per decode step (ms)", r.tensorParallel->allReduceMsPerStep, 3);
    out += row("all-reduce share of decode (%)",
               scaled(r.tensorParallel->allReduceShare, 100.0), 1);
    if (r.tensorParallel->allGathersPerStep > 0) {
      out += row("all-gather per decode step (ms)", r.tensorParallel->allGatherMsPerStep, 3);
      out += row("all-gather share of decode (%)",
                 scaled(r.tensorParallel->allGatherShare, 100.0), 1);
    }
  }
  if (r.speculative) {
    const SpeculativeBenchResult &s = *r.speculative;
    out += row("plain, repetitive prompt (tok/s)", s.plainTokensPerS);
    out += row(absl::StrCat("speculative, k ", s.stats.k, " (tok/s)"), s.speculativeTokensPerS);
  }
  out += "\n";
  out += absl::StrFormat("  bandwidth used by decode: %.1f%% of measured\n",
                         100.0 * r.bandwidthFraction);
  if (r.verifyCost)
    out += absl::StrFormat("  verify(%lld) costs %.2f decode steps (%.2f in CPU time)\n",
                           static_cast<long long>(r.verifyCost->tokens), r.verifyCost->ratio,
                           r.verifyCost->cpuRatio);
  if (r.speculative) {
    const SpeculativeBenchResult &s = *r.speculative;
    out += absl::StrFormat(
        "  speculative (%s), %lld tokens after a %lld-token repetitive prompt: %.2fx "
        "plain decode; %lld target passes, %lld of %lld draft tokens accepted (%.1f%%); "
        "tokens %s plain greedy's\n",
        s.stats.draft, static_cast<long long>(s.tokens), static_cast<long long>(s.promptTokens),
        s.speedup, static_cast<long long>(s.stats.targetPasses),
        static_cast<long long>(s.stats.accepted),
        static_cast<long long>(s.stats.proposed), 100.0 * s.stats.acceptanceRate,
        s.identical ? "identical to" : "DIFFERENT FROM");
    for (const SpeculativeBenchResult::ReferenceRun &run : s.referenceRuns)
      out += absl::StrFormat(
          "  prompt lookup, plain output as reference%s: %.2f tok/s, %.2fx plain; %lld target "
          "passes, %lld of %lld accepted (%.1f%%); tokens %s plain greedy's\n",
          run.every ? absl::StrCat(", 1 token in ", run.every, " changed") : std::string(),
          run.tokensPerS.median, run.speedup, static_cast<long long>(run.stats.targetPasses),
          static_cast<long long>(run.stats.accepted), static_cast<long long>(run.stats.proposed),
          100.0 * run.stats.acceptanceRate, run.identical ? "identical to" : "DIFFERENT FROM");
  }
  if (r.tensorParallel) {
    const TensorParallelCost &tp = *r.tensorParallel;
    std::string gathers =
        tp.allGathersPerStep > 0
            ? absl::StrFormat(" and %s of %s", counted(tp.allGathersPerStep, "all-gather"),
                              megabytes(tp.gatherBytesPerStep / tp.allGathersPerStep))
            : std::string();
    out += absl::StrFormat(
        "  tensor parallel: %lld ranks over %s; %s of %s%s per decode step; "
        "the weight bytes below are one rank's%s\n",
        static_cast<long long>(tp.ranks), tp.communicator,
        counted(tp.allReducesPerStep, "all-reduce"),
        megabytes(tp.allReducesPerStep > 0 ? tp.bytesPerStep / tp.allReducesPerStep : 0),
        gathers,
        tp.timed ? "" : " (the collectives run inside the decode graph: not timed apart)");
  }
  out += absl::StrFormat(
      "  weight bytes per decode step: %s of %s in the artifact\n",
      megabytes(r.traffic.weightBytesPerStep),
      megabytes(r.traffic.artifactWeightBytes));
  if (r.traffic.embeddingBytesExcluded > 0)
    out += absl::StrFormat("    (%s counted as the one row a step reads; "
                           "%s of it left out)\n",
                           runtime::kEmbeddingWeight,
                           megabytes(r.traffic.embeddingBytesExcluded));
  out +=
      absl::StrFormat("  KV cache bytes per step (in the GB/s above): "
                      "%s at %.1f positions on average; %s allocated\n",
                      megabytes(r.kvCacheBytesPerStep), r.decodeAverageContext,
                      megabytes(static_cast<double>(r.kvCacheBytes)));
  out += absl::StrFormat("  read probe: %s buffer, %s kernel, %d threads, "
                         "checksum verified\n",
                         megabytes(static_cast<double>(r.probe.bytes)),
                         readKernelName(r.probe.kernel), r.probe.threads);
  for (const KernelProfile &p : r.profiles)
    out += profileTable(p);
  return out;
}

} // namespace llamac::bench
