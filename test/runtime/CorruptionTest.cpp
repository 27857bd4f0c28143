//===- CorruptionTest.cpp - nothing corrupted is executed -----------------===//
//
// On the compiled stories260K artifact (test/e2e): single bit flips in the
// header, metadata, tokenizer and kernels are refused when the artifact is
// opened; flips in the weights are caught by `verifyWeights` (`llama-run
// check`, `--verify`); and metadata edited consistently enough to pass its
// checksum, but disagreeing with the kernels, is refused before any kernel
// runs. Before artifact format 3 (issue 16) a kernel flip crashed llama-run
// with SIGILL or SIGSEGV, a weight or tokenizer flip ran and printed other
// text, and each metadata edit below crashed or ran on a too-small cache.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Model.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "test/runtime/LlamaRunProcess.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <random>

namespace llamac {
namespace {

using nlohmann::json;
using runtime::Artifact;
using test::RunResult;
using test::runLlamaRun;
using test::TempFile;
using ::testing::HasSubstr;

struct Region {
  std::string name;
  uint64_t offset, size;
};

/// The stories260K artifact, its metadata and the byte ranges of its parts,
/// read independently of the runtime's reader.
struct Stories {
  std::string bytes;
  json meta;
  Region header, metadata, tokenizer, kernels;
  std::vector<Region> weights;

  Stories() : bytes(test::readFile(LLAMAC_STORIES_ARTIFACT)) {
    artifact::Header h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    meta = json::parse(bytes.substr(h.metadataOffset, h.metadataSize));
    header = {"header", 0, sizeof(h)};
    metadata = {"metadata", h.metadataOffset, h.metadataSize};
    auto region = [&](const char *name) {
      return Region{name, meta[name]["offset"], meta[name]["size"]};
    };
    tokenizer = region("tokenizer");
    kernels = region("kernels");
    for (const json &w : meta["weights"])
      weights.push_back({w["name"], w["offset"], w["size"]});
  }
};

/// One file the flips are written into and undone in, byte by byte.
class FlippedFile {
public:
  explicit FlippedFile(const std::string &bytes)
      : file("flipped.llamac", bytes), stream(file.path, std::ios::in |
                                                             std::ios::out |
                                                             std::ios::binary),
        original(bytes) {}
  void flip(uint64_t offset, int bit) { put(offset, original[offset] ^ (1 << bit)); }
  void undo(uint64_t offset) { put(offset, original[offset]); }
  const std::string &path() const { return file.path; }

private:
  void put(uint64_t offset, char c) {
    stream.seekp(static_cast<std::streamoff>(offset));
    stream.put(c);
    stream.flush();
  }
  TempFile file;
  std::fstream stream;
  const std::string &original;
};

TEST(CorruptionTest, EveryBitFlipInTheCheckedSectionsIsRefusedAtLoad) {
  Stories s;
  ASSERT_FALSE(s.bytes.empty());
  ASSERT_TRUE(Artifact::open(LLAMAC_STORIES_ARTIFACT).ok());
  FlippedFile f(s.bytes);
  std::mt19937_64 rng(16);
  int flips = 0;
  for (const Region &r : {s.header, s.metadata, s.tokenizer, s.kernels}) {
    // The whole header; 100 seeded offsets spread over each section.
    int count = r.size <= 64 ? static_cast<int>(r.size) : 100;
    for (int i = 0; i < count; ++i) {
      uint64_t offset = r.offset + (r.size <= 64 ? i : rng() % r.size);
      int bit = static_cast<int>(rng() % 8);
      f.flip(offset, bit);
      absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(f.path());
      EXPECT_FALSE(a.ok()) << r.name << " byte " << offset << " bit " << bit;
      if (!a.ok()) {
        EXPECT_THAT(std::string(a.status().message()),
                    ::testing::StartsWith(f.path()));
      }
      f.undo(offset);
      ++flips;
    }
  }
  EXPECT_EQ(flips, 64 + 300);
}

TEST(CorruptionTest, BitFlipsInWeightsAreCaughtByVerification) {
  Stories s;
  FlippedFile f(s.bytes);
  std::mt19937_64 rng(17);
  for (int i = 0; i < 100; ++i) {
    const Region &w = s.weights[rng() % s.weights.size()];
    uint64_t offset = w.offset + rng() % w.size;
    int bit = static_cast<int>(rng() % 8);
    f.flip(offset, bit);
    absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(f.path());
    ASSERT_TRUE(a.ok()) << a.status(); // opening reads no weight
    absl::Status verified = (*a)->verifyWeights();
    EXPECT_THAT(std::string(verified.message()),
                HasSubstr("weight '" + w.name + "' checksum mismatch"))
        << "byte " << offset << " bit " << bit;
    f.undo(offset);
  }
  ModelOptions verify;
  verify.verifyWeights = true;
  EXPECT_TRUE(Model::load(f.path(), verify).ok()); // undone: intact again
}

/// The stories260K artifact with one bit flipped at `offset`.
TempFile flippedStories(const std::string &name, uint64_t offset) {
  std::string bytes = test::readFile(LLAMAC_STORIES_ARTIFACT);
  bytes[offset] ^= 0x01;
  return TempFile(name, bytes);
}

TEST(CorruptionTest, LlamaRunRefusesCorruptedCodeAndTokenizer) {
  Stories s;
  // The middle of the kernel library is code: this flip crashed llama-run.
  TempFile kernels = flippedStories("kernels.llamac",
                                    s.kernels.offset + s.kernels.size / 2);
  RunResult r = runLlamaRun({kernels.path, "--prompt", "Once", "--max-new-tokens", "4"});
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("kernels checksum mismatch"));
  TempFile tokenizer = flippedStories("tokenizer.llamac",
                                      s.tokenizer.offset + s.tokenizer.size / 2);
  r = runLlamaRun({tokenizer.path, "--prompt", "Once", "--max-new-tokens", "4"});
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("tokenizer checksum mismatch"));
}

TEST(CorruptionTest, CheckAndVerifyFindAFlippedWeight) {
  Stories s;
  const Region &w = s.weights.back();
  TempFile weight = flippedStories("weight.llamac", w.offset + w.size / 3);
  RunResult r = runLlamaRun({"check", weight.path, "--quiet"});
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("weight '" + w.name + "' checksum mismatch"));
  r = runLlamaRun({weight.path, "--prompt", "Once", "--max-new-tokens", "4",
                   "--verify"});
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("weight '" + w.name + "' checksum mismatch"));
  // Without --verify the weights are not read before they are used.
  r = runLlamaRun({weight.path, "--prompt", "Once", "--max-new-tokens", "4",
                   "--quiet"});
  EXPECT_EQ(r.status, 0) << r.err;

  r = runLlamaRun({"check", LLAMAC_STORIES_ARTIFACT});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(": ok: "));
  EXPECT_THAT(r.out, HasSubstr("kernels' signatures"));
  EXPECT_THAT(r.err, HasSubstr("check: weights 100%"));
}

/// llama-run on stories260K with its metadata edited and resealed (checksums
/// recomputed): what a buggy writer, or a hand edit, produces.
RunResult runEdited(const std::string &name,
                    const std::function<void(json &)> &edit) {
  Stories s;
  edit(s.meta);
  std::string bytes = s.bytes;
  test::replaceMetadata(bytes, s.meta.dump());
  TempFile file(name, bytes);
  return runLlamaRun({file.path, "--prompt", "Once upon a time",
                      "--max-new-tokens", "8"});
}

json &decodeBody(json &m) {
  return m["entry_points"]["decode"]["schedule"]["layer_body"];
}

TEST(CorruptionTest, DispatchesMustMatchTheirKernels) {
  // A binding too few: crashed with SIGSEGV.
  RunResult r = runEdited("short.llamac", [](json &m) {
    decodeBody(m)[0]["bindings"].erase(decodeBody(m)[0]["bindings"].size() - 1);
  });
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("layer_body[0] passes"));
  // The scalars left out: crashed with SIGSEGV.
  r = runEdited("scalars.llamac", [](json &m) {
    for (json &d : decodeBody(m))
      d["scalars"] = json::array();
  });
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("arguments but kernel"));
  // decode's classifier replaced by prefill's, whose tensors are 64 rows:
  // crashed with SIGSEGV.
  r = runEdited("epilogue.llamac", [](json &m) {
    m["entry_points"]["decode"]["schedule"]["epilogue"][0]["kernel"] =
        m["entry_points"]["prefill"]["schedule"]["epilogue"][0]["kernel"];
  });
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("entry_points.decode.schedule.epilogue[0]"));
  // A binding to a buffer smaller than the kernel's tensor.
  r = runEdited("buffer.llamac", [](json &m) {
    json &buffers = m["entry_points"]["decode"]["buffers"];
    int64_t target = decodeBody(m)[0]["bindings"][0]["id"];
    for (json &b : buffers)
      if (b["id"] == target)
        b["shape"] = {1, 1};
  });
  test::expectOneErrorLine(r, 1);
  // (The first dispatch to bind it is the embedding, which writes it.)
  EXPECT_THAT(r.err, HasSubstr("is p4 but kernel"));
}

TEST(CorruptionTest, TheKVCacheMustBeTheOneTheKernelsWereCompiledFor) {
  // A cache of fewer heads or a smaller head_dim, model and cache agreeing:
  // ran on, writing past the cache it had allocated.
  for (const char *field : {"kv_heads", "head_dim"}) {
    RunResult r = runEdited("kv.llamac", [&](json &m) {
      m["model"][field] = 2;
      m["kv_cache"][field] = 2;
    });
    test::expectOneErrorLine(r, 1);
    EXPECT_THAT(r.err, HasSubstr("but kernel")) << field;
  }
}

TEST(CorruptionTest, CheckLoadsTheTokenizerAndTheChatTemplate) {
  // Intact checksums but nothing could run: `check` said ok while every
  // command failed to load the tokenizer or (--chat) the template.
  auto checkEdited = [](const std::string &name, const std::function<void(json &)> &edit) {
    Stories s;
    edit(s.meta);
    std::string bytes = s.bytes;
    test::replaceMetadata(bytes, s.meta.dump());
    TempFile file(name, bytes);
    return runLlamaRun({"check", file.path, "--quiet"});
  };
  RunResult r = checkEdited("kind.llamac", [](json &m) { m["tokenizer"]["kind"] = "bpe"; });
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot load the tokenizer"));
  r = checkEdited("template.llamac",
                  [](json &m) { m["tokenizer"]["chat_template"] = "bogus"; });
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("chat template: unknown chat template 'bogus'"));
  // llama3's template needs special tokens sentencepiece's stories260K lacks.
  r = checkEdited("llama3.llamac",
                  [](json &m) { m["tokenizer"]["chat_template"] = "llama3"; });
  test::expectOneErrorLine(r, 1);
  EXPECT_THAT(r.err, HasSubstr("chat template:"));
  r = checkEdited("vocab.llamac", [](json &m) { m["model"]["vocab"] = 1000; });
  test::expectOneErrorLine(r, 1);
  r = checkEdited("plain.llamac", [](json &m) { m["tokenizer"]["chat_template"] = "plain"; });
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tokenizer and chat template load"));
}

} // namespace
} // namespace llamac
