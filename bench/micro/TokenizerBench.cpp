//===- TokenizerBench.cpp - BPE encode/decode speed on 1 MB of text -------===//
//
//   tokenizer-bench <tokenizer file> <text file>... [--mib N] [--repeats R]
//
// Repeats the text files' contents up to N MiB (default 1, cut at a
// character boundary), then times encode and decode, R times each (median),
// and checks the round trip. A second input, one N MiB run of letters with
// no space (one pre-tokenizer piece), shows that merging is not quadratic.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace llamac;
using Clock = std::chrono::steady_clock;

static double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

static void run(const Tokenizer &t, const char *name, const std::string &text,
                int repeats) {
  std::vector<double> encodeMs, decodeMs;
  std::vector<int> ids;
  std::string back;
  for (int r = 0; r < repeats; ++r) {
    Clock::time_point start = Clock::now();
    absl::StatusOr<std::vector<int>> encoded = t.encode(text, false);
    if (!encoded.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(encoded.status().message()).c_str());
      std::exit(1);
    }
    ids = *std::move(encoded);
    encodeMs.push_back(msSince(start));
    start = Clock::now();
    back = t.decode(ids);
    decodeMs.push_back(msSince(start));
  }
  double e = median(encodeMs), d = median(decodeMs);
  std::printf("%-10s %9zu bytes %8zu ids  encode %8.1f ms (%5.2f MB/s, %9.0f "
              "ids/s)  decode %6.1f ms  round trip %s\n",
              name, text.size(), ids.size(), e, text.size() / e / 1e3,
              ids.size() / (e / 1e3), d, back == text ? "exact" : "DIFFERS");
}

int main(int argc, char **argv) {
  std::vector<std::string> files;
  double mib = 1;
  int repeats = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mib" && i + 1 < argc)
      mib = std::atof(argv[++i]);
    else if (arg == "--repeats" && i + 1 < argc)
      repeats = std::max(1, std::atoi(argv[++i]));
    else
      files.push_back(arg);
  }
  if (files.size() < 2) {
    std::fprintf(stderr, "error: usage: tokenizer-bench <tokenizer> <text "
                         "file>... [--mib N] [--repeats R]\n");
    return 2;
  }
  Clock::time_point start = Clock::now();
  auto tokenizer = Tokenizer::load(files[0]);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "error: %s\n", tokenizer.status().ToString().c_str());
    return 1;
  }
  std::printf("load %s: %.0f ms (%s, %d ids)\n", files[0].c_str(),
              msSince(start), std::string((*tokenizer)->kind()).c_str(),
              (*tokenizer)->vocabSize());
  std::string corpus;
  for (size_t i = 1; i < files.size(); ++i) {
    std::ifstream in(files[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "error: %s: cannot open\n", files[i].c_str());
      return 1;
    }
    std::ostringstream s;
    s << in.rdbuf();
    corpus += s.str();
  }
  const size_t size = static_cast<size_t>(mib * 1024 * 1024);
  if (corpus.empty()) {
    std::fprintf(stderr, "error: the text files are empty\n");
    return 1;
  }
  std::string text;
  while (text.size() < size)
    text += corpus;
  size_t cut = size;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut; // not inside a character
  text.resize(cut);
  run(**tokenizer, "text", text, repeats);
  run(**tokenizer, "one-piece", std::string(size, 'x'), repeats);
  return 0;
}
