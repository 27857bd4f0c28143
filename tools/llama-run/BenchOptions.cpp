//===- BenchOptions.cpp - the command line of `llama-run bench` -----------===//

#include "tools/llama-run/BenchOptions.h"
#include "tools/llama-run/Flags.h"
#include "tools/llama-run/ModelFlags.h"

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include <limits>

namespace llamac::tools {

std::string benchUsage() {
  return R"(usage: llama-run bench <artifact> [options]

Measures a compiled model on synthetic token ids: prefill tok/s for each
prompt length, time to first token, greedy decode tok/s, the weight bytes a
decode step reads, and the machine's read bandwidth measured in the same run
on the same threads; reports decode GB/s as a share of it. Each measurement
runs once to warm up, then --repeats times (median, min and max).

options:
  --threads N            worker threads for the model and the read probe,
                         at most 256 (default: physical cores; a GPU
                         ignores it)
  --max-seq-len N        positions of the KV cache (default: the
                         artifact's max_seq_len), which clip the lengths
                         below
  --prompt-tokens A,B,.. prefill lengths, clipped to the positions
                         (default 128,512; the first one gives the time to
                         first token)
  --new-tokens N         greedy decode steps per run, after a 16-token
                         prompt (default 128)
  --decode-after N       the prompt length decode and verify start after
                         (default 16, clipped to max_seq_len - 1; a long one
                         shows what attention over a long KV cache costs
                         each step)
  --repeats N            timed runs of each measurement (default 5)
  --probe-mib N          read probe buffer in MiB (default: the larger of
                         1024 and 4x the last-level cache, at most half of
                         the available memory; on a GPU, 512 per buffer of
                         a timed device-to-device copy)
  --device D             cpu, cuda or hip (default: the artifact's device)
  --profile              then also each kernel's wall time in a prefill of
                         the first prompt length and in the decode steps
                         (stats.kernel_profile in --json; cpu device only)
  --json                 print one JSON object as the last line of stdout
  --quiet                no progress lines on stderr
  --help                 this text

An artifact with a verify entry point (llamac compile --speculate-k) also
reports a verify pass of its k + 1 tokens against one decode step. With a
draft source, greedy decoding of --new-tokens after a repetitive prompt (a
segment of synthetic tokens, repeated) runs plainly and speculatively,
alternately: tok/s of each, the speed-up, target passes and acceptance, and
whether the tokens are the same (they must be):
)" + std::string(speculationUsage()) +
         R"(  --repeat-prompt S,C    the repetitive prompt: BOS, then a segment of S
                         synthetic tokens C times (default 32,3)
  --lookup-reference E,..
                         with --prompt-lookup: then also decode with the
                         plain run's own tokens as a text prompt lookup
                         searches first, every E-th token changed (0:
                         none), one row per E: the speed-up at the
                         acceptance of a model that repeats a given text
                         (a random-weight model does not)
)";
}

namespace {

absl::StatusOr<std::vector<int64_t>> parseLengths(const std::string &name,
                                                  const std::string &value) {
  std::vector<int64_t> lengths;
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    absl::StatusOr<int64_t> n =
        parseIntFlag(name, part, 1, std::numeric_limits<int32_t>::max());
    if (!n.ok())
      return n.status();
    lengths.push_back(*n);
  }
  return lengths;
}

absl::Status applyBenchFlag(BenchCommandOptions &o, const std::string &name,
                            const std::string &value) {
  absl::StatusOr<bool> speculative = applySpeculationFlag(o.speculation, name, value);
  if (!speculative.ok() || *speculative)
    return speculative.status();
  absl::StatusOr<bool> shared = applyModelCommandFlag(o, name, value);
  if (!shared.ok() || *shared)
    return shared.status();
  if (name == "--profile") {
    o.bench.profile = true;
  } else if (name == "--prompt-tokens") {
    absl::StatusOr<std::vector<int64_t>> v = parseLengths(name, value);
    if (!v.ok())
      return v.status();
    o.bench.promptTokens = *v;
  } else if (name == "--new-tokens") {
    absl::StatusOr<int64_t> v =
        parseIntFlag(name, value, 1, std::numeric_limits<int32_t>::max());
    if (!v.ok())
      return v.status();
    o.bench.newTokens = *v;
  } else if (name == "--decode-after") {
    absl::StatusOr<int64_t> v =
        parseIntFlag(name, value, 1, std::numeric_limits<int32_t>::max());
    if (!v.ok())
      return v.status();
    o.bench.decodePromptTokens = *v;
  } else if (name == "--repeats") {
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 1, 1000);
    if (!v.ok())
      return v.status();
    o.bench.repeats = static_cast<int>(*v);
  } else if (name == "--repeat-prompt") {
    absl::StatusOr<std::vector<int64_t>> v = parseLengths(name, value);
    if (!v.ok())
      return v.status();
    if (v->size() != 2)
      return usageError(absl::StrCat(
          "--repeat-prompt expects SEGMENT,COPIES (two positive integers), not '", value, "'"));
    if ((*v)[0] * (*v)[1] > (1 << 20))
      return usageError(absl::StrCat("--repeat-prompt ", value, " makes a prompt of ",
                                     (*v)[0] * (*v)[1], " tokens, more than 1048576"));
    o.bench.repetitiveSegmentTokens = (*v)[0];
    o.bench.repetitiveCopies = static_cast<int>((*v)[1]);
    o.repeatPromptGiven = true;
  } else if (name == "--lookup-reference") {
    for (absl::string_view part : absl::StrSplit(value, ',')) {
      absl::StatusOr<int64_t> every = parseIntFlag(name, part, 0, 1 << 20);
      if (!every.ok())
        return every.status();
      // As --prompt-tokens: a repeated value measures the same thing again.
      if (!absl::c_linear_search(o.bench.lookupReferenceEvery, *every))
        o.bench.lookupReferenceEvery.push_back(*every);
    }
    o.lookupReferenceGiven = true;
  } else if (name == "--probe-mib") {
    // Up to 1 TiB: a typo should fail here, not in mmap.
    absl::StatusOr<int64_t> v = parseIntFlag(name, value, 1, 1 << 20);
    if (!v.ok())
      return v.status();
    o.bench.probeBytes = static_cast<uint64_t>(*v) << 20;
  }
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<BenchCommandOptions>
parseBenchOptions(const std::vector<std::string> &args) {
  static const FlagSpec kSpec = [] {
    FlagSpec spec{{"--help", "--json", "--quiet", "--profile"},
                  {"--threads", "--max-seq-len", "--prompt-tokens", "--new-tokens", "--decode-after",
                   "--repeats", "--probe-mib",
                   "--device", "--repeat-prompt", "--lookup-reference"}};
    addSpeculationFlags(spec);
    return spec;
  }();
  BenchCommandOptions o;
  absl::Status scanned = scanArtifactAndFlags(
      args, kSpec, o.artifact, o.help,
      "llama-run bench <artifact> [options]; see llama-run bench --help",
      [&](const std::string &name, const std::string &value) {
        return applyBenchFlag(o, name, value);
      });
  if (!scanned.ok())
    return scanned;
  if (o.help)
    return o;
  if (absl::Status s = checkSpeculationFlags(o.speculation); !s.ok())
    return s;
  if (o.lookupReferenceGiven && !o.speculation.promptLookup)
    return usageError("--lookup-reference needs --prompt-lookup");
  if (o.repeatPromptGiven && !o.speculation.enabled())
    return usageError("--repeat-prompt needs a draft source: --draft <artifact> or "
                      "--prompt-lookup");
  return o;
}

} // namespace llamac::tools
