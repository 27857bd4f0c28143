//===- ArtifactTest.cpp - the artifact reader refuses broken files --------===//

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "runtime/artifact/DecodeTraffic.h"
#include "test/runtime/TestArtifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include <xxhash.h>

namespace llamac {
namespace {

using runtime::Artifact;
using test::smallArtifact;
using test::TempFile;
using test::TestArtifact;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// Opens `bytes` as an artifact file and returns the error message ("" on
/// success).
std::string openError(const std::string &bytes) {
  TempFile file("artifact.llamac", bytes);
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path);
  if (a.ok())
    return "";
  std::string message(a.status().message());
  // Every message names the file first and is one line.
  EXPECT_THAT(message, StartsWith(file.path)) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  return message;
}

std::string openError(const TestArtifact &a) { return openError(a.bytes()); }

/// The error of an artifact whose metadata `edit` changes (defined below).
std::string editedError(std::function<void(nlohmann::json &)> edit);

TEST(ArtifactTest, OpensAValidArtifact) {
  TestArtifact t = smallArtifact();
  TempFile file("valid.llamac", t.bytes());
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path);
  ASSERT_TRUE(a.ok()) << a.status();
  const Artifact &artifact = **a;
  EXPECT_EQ(artifact.model().vocab, 16);
  EXPECT_EQ(artifact.model().eos, std::vector<int64_t>{2});
  EXPECT_EQ(artifact.target().name, "cpu");
  EXPECT_FALSE(artifact.target().bf16Dot); // absent: older artifacts
  EXPECT_EQ(artifact.kvCache().positions, 10);
  EXPECT_FALSE(artifact.kvCache().ring); // as many positions as the context
  EXPECT_EQ(artifact.tokenizerBytes(), "not a real tokenizer");
  EXPECT_EQ(artifact.kernelBytes(), "\x7f"
                                    "ELF placeholder");
  ASSERT_EQ(artifact.weights().size(), 2u);
  const runtime::WeightInfo &w = artifact.weights()[0];
  EXPECT_EQ(w.name, "layers.w");
  EXPECT_EQ(w.size, 16u);
  EXPECT_EQ(w.offset % artifact::kSectionAlignment, 0u);
  EXPECT_EQ(static_cast<const float *>(w.data)[3], 4.0f);
  EXPECT_EQ(artifact.weightBytes(), 16u + 256u);

  const runtime::EntryPoint *prefill = artifact.entryPoint("prefill");
  ASSERT_NE(prefill, nullptr);
  EXPECT_EQ(prefill->tokens, 2);
  EXPECT_EQ(prefill->logits, 1);
  ASSERT_EQ(prefill->schedule.layerBody.size(), 1u);
  const runtime::Dispatch &d = prefill->schedule.layerBody[0];
  EXPECT_EQ(d.kernel, "k0_add");
  ASSERT_EQ(d.bindings.size(), 7u);
  EXPECT_EQ(d.bindings[1].kind, runtime::Binding::Kind::Weight);
  EXPECT_TRUE(d.bindings[1].perLayer);
  EXPECT_EQ(d.bindings[1].weightIndex, 0);
  EXPECT_EQ(d.bindings[3].kind, runtime::Binding::Kind::KCache);
  EXPECT_EQ(d.bindings[5].kind, runtime::Binding::Kind::Tokens);
  EXPECT_EQ(d.scalars, (std::vector<runtime::Scalar>{runtime::Scalar::Pos,
                                                     runtime::Scalar::Layer}));
  EXPECT_EQ(d.range, 4);
  EXPECT_EQ(artifact.metadata().kernelNames(),
            std::vector<std::string>{"k0_add"});
}

TEST(ArtifactTest, MissingFile) {
  absl::StatusOr<std::unique_ptr<Artifact>> a =
      Artifact::open("/nonexistent/model.llamac");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              HasSubstr("cannot open /nonexistent/model.llamac"));
}

TEST(ArtifactTest, Directory) {
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open("/tmp");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              HasSubstr("not a regular file"));
}

TEST(ArtifactTest, TooSmall) {
  EXPECT_THAT(openError(""),
              HasSubstr("too small to be a llamac artifact (0 bytes)"));
  EXPECT_THAT(openError("LLAMACAF"), HasSubstr("too small"));
}

TEST(ArtifactTest, WrongMagic) {
  std::string bytes = smallArtifact().bytes();
  bytes[0] = 'X';
  EXPECT_THAT(openError(bytes), HasSubstr("not a llamac artifact (bad magic)"));
}

TEST(ArtifactTest, NewerVersion) {
  std::string bytes = smallArtifact().bytes();
  uint32_t version = 7;
  std::memcpy(bytes.data() + 8, &version, 4);
  EXPECT_THAT(openError(bytes),
              HasSubstr("artifact format version 7 is newer than this "
                        "llama-run supports (3); rebuild llama-run or "
                        "recompile the model"));
}

TEST(ArtifactTest, OlderVersion) {
  std::string bytes = smallArtifact().bytes();
  uint32_t version = 0;
  std::memcpy(bytes.data() + 8, &version, 4);
  EXPECT_THAT(openError(bytes), HasSubstr("version 0 is not supported"));
  // Version 2 had no checksums of the sections and weights.
  version = 2;
  std::memcpy(bytes.data() + 8, &version, 4);
  EXPECT_THAT(openError(bytes),
              HasSubstr("artifact format version 2 is not supported (this "
                        "llama-run reads version 3); recompile the model"));
}

TEST(ArtifactTest, HeaderChecksum) {
  std::string bytes = smallArtifact().bytes();
  bytes[20] ^= 0x01; // the metadata offset, inside the file either way
  EXPECT_THAT(openError(bytes),
              HasSubstr("header checksum mismatch (the file is corrupted)"));
}

TEST(ArtifactTest, ReservedHeaderBytesAreZero) {
  std::string bytes = smallArtifact().bytes();
  bytes[60] = 1;
  test::resealHeader(bytes); // a valid checksum: only the rule refuses it
  EXPECT_THAT(openError(bytes), HasSubstr("reserved header bytes are not zero"));
}

TEST(ArtifactTest, SectionChecksums) {
  TestArtifact t = smallArtifact();
  std::string good = t.bytes();
  nlohmann::json meta = t.completeMetadata();
  for (const char *section : {"tokenizer", "kernels"}) {
    std::string bytes = good;
    bytes[meta[section]["offset"].get<uint64_t>() + 2] ^= 0x10;
    EXPECT_THAT(openError(bytes),
                HasSubstr(std::string(section) +
                          " checksum mismatch (the file is corrupted)"));
  }
  EXPECT_THAT(editedError([](auto &m) { m["kernels"]["xxh3"] = "12345"; }),
              HasSubstr("metadata: kernels.xxh3 must be 16 hex digits"));
  EXPECT_THAT(editedError([](auto &m) { m["weights"][0].erase("xxh3"); }),
              HasSubstr("metadata: weights[0].xxh3 is missing"));
}

TEST(ArtifactTest, WeightChecksumsAreVerifiedOnRequest) {
  TestArtifact t = smallArtifact();
  std::string bytes = t.bytes();
  uint64_t embed = t.completeMetadata()["weights"][1]["offset"];
  bytes[embed + 5] ^= 0x40;
  TempFile file("weights.llamac", bytes);
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path);
  ASSERT_TRUE(a.ok()) << a.status(); // opening reads no weight
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  absl::Status verified = (*a)->verifyWeights(
      [&](uint64_t done, uint64_t total) { progress.emplace_back(done, total); });
  EXPECT_THAT(std::string(verified.message()),
              HasSubstr(file.path + ": weight 'embed' checksum mismatch (the "
                                    "file is corrupted)"));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), std::make_pair(uint64_t(16 + 256), uint64_t(16 + 256)));
  TempFile intact("intact.llamac", t.bytes());
  EXPECT_TRUE((*Artifact::open(intact.path))->verifyWeights().ok());
}

TEST(ArtifactTest, KernelSignaturesInMetadataAreForGpuTargets) {
  EXPECT_THAT(editedError([](auto &m) {
                m["kernel_signatures"] = {{"k0_add", "p16"}};
              }),
              HasSubstr("metadata: kernel_signatures is only allowed for GPU "
                        "targets"));
}

TEST(ArtifactTest, SectionsNeverOverlap) {
  EXPECT_THAT(editedError([](auto &m) {
                m["weights"][1]["offset"] = m["weights"][0]["offset"];
              }),
              HasSubstr("overlaps weight 'layers.w'"));
  EXPECT_THAT(editedError([](auto &m) {
                m["tokenizer"]["offset"] = m["kernels"]["offset"];
              }),
              HasSubstr("overlaps"));
}

/// smallArtifact with two more weights: `table` [2048, 4] (rows of 16
/// bytes, 256 a page; element i is i) and `odd` [1024, 3] (rows of 12
/// bytes), and `view` entries added by `views` (weights 2 and 3 are then
/// `table` and `odd`). A view's checksum is computed here from the bytes
/// its range holds.
TestArtifact withViews(std::function<void(nlohmann::json &)> views) {
  TestArtifact t = smallArtifact();
  std::vector<float> table(2048 * 4), odd(1024 * 3, 1.0f);
  for (size_t i = 0; i < table.size(); ++i)
    table[i] = static_cast<float>(i);
  t.weights.push_back({"table", {2048, 4}, table});
  t.weights.push_back({"odd", {1024, 3}, odd});
  t.editMetadata = [views = std::move(views)](nlohmann::json &m) { views(m); };
  return t;
}

/// A view entry: `name`, rows of `base` (weights[baseIndex]) from byte
/// `at` of it, f32 `shape`; its checksum is that of the base's values
/// there (`values`, which are the base's floats from element at / 4).
nlohmann::json viewEntry(const nlohmann::json &m, const std::string &name, size_t baseIndex,
                         uint64_t at, std::vector<int64_t> shape) {
  const nlohmann::json &base = m["weights"][baseIndex];
  uint64_t size = 4;
  for (int64_t d : shape)
    size *= d;
  return {{"name", name},         {"dtype", "f32"},
          {"shape", shape},       {"offset", base["offset"].get<uint64_t>() + at},
          {"size", size},         {"xxh3", "0000000000000000"},
          {"view_of", base["name"]}};
}

/// The checksum text of `count` floats i, i + 1, ... from `first`.
std::string rampChecksum(uint64_t first, uint64_t count) {
  std::vector<float> values(count);
  for (uint64_t i = 0; i < count; ++i)
    values[i] = static_cast<float>(first + i);
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(values.data(), count * 4)));
  return text;
}

TEST(ArtifactTest, AViewIsRowsOfAWeightOfItsTable) {
  // Two views of `table`, one from its first byte (the offset of its base,
  // as rank 0's rows of a tied classifier), one from its second page.
  TestArtifact t = withViews([](nlohmann::json &m) {
    m["weights"].push_back(viewEntry(m, "first", 2, 0, {256, 4}));
    m["weights"].back()["xxh3"] = rampChecksum(0, 1024);
    m["weights"].push_back(viewEntry(m, "second", 2, 4096, {1792, 4}));
    m["weights"].back()["xxh3"] = rampChecksum(1024, 1792 * 4);
  });
  TempFile file("views.llamac", t.bytes());
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path);
  ASSERT_TRUE(a.ok()) << a.status();
  const std::vector<runtime::WeightInfo> &w = (*a)->weights();
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[4].viewOf, "table");
  EXPECT_EQ(w[4].data, w[2].data);
  EXPECT_EQ(static_cast<const float *>(w[5].data)[0], 1024.0f);
  // The bytes it maps count once: views add none to the table's.
  uint64_t ownBytes = 0;
  for (size_t i = 0; i < 4; ++i)
    ownBytes += w[i].size;
  EXPECT_EQ((*a)->weightBytes(), ownBytes);
  EXPECT_EQ(runtime::decodeTraffic((*a)->metadata()).artifactWeightBytes, ownBytes);
  // Each view's own checksum is checked, also the one that starts where its
  // base does.
  Artifact::VerifiedWeights verified;
  EXPECT_TRUE((*a)->verifyWeights({}, &verified).ok());
  EXPECT_EQ(verified.tensors, 6u);
  TestArtifact wrong = withViews([](nlohmann::json &m) {
    m["weights"].push_back(viewEntry(m, "first", 2, 0, {256, 4}));
    m["weights"].back()["xxh3"] = rampChecksum(1, 1024);
  });
  TempFile wrongFile("wrong-view.llamac", wrong.bytes());
  EXPECT_THAT(std::string((*Artifact::open(wrongFile.path))->verifyWeights().message()),
              HasSubstr("weight 'first' checksum mismatch"));
}

TEST(ArtifactTest, BrokenViewsAreRefused) {
  auto error = [](std::function<void(nlohmann::json &)> edit) {
    return openError(withViews(std::move(edit)));
  };
  EXPECT_THAT(error([](auto &m) {
                m["weights"].push_back(viewEntry(m, "rows", 2, 4096, {256, 4}));
                m["weights"].back()["view_of"] = "nope";
              }),
              HasSubstr("metadata: weight 'rows' is a view of unknown weight 'nope' (a "
                        "view's weight must be in its table)"));
  EXPECT_THAT(error([](auto &m) {
                m["weights"].push_back(viewEntry(m, "rows", 2, 4096, {256, 4}));
                m["weights"].push_back(viewEntry(m, "rows2", 2, 4096, {256, 4}));
                m["weights"].back()["view_of"] = "rows";
              }),
              HasSubstr("metadata: weight 'rows2' is a view of weight 'rows', which is "
                        "itself a view"));
  EXPECT_THAT(error([](auto &m) {
                m["weights"].push_back(viewEntry(m, "rows", 2, 4096, {512, 4}));
                m["weights"].back()["dtype"] = "bf16";
                m["weights"].back()["size"] = 4096;
              }),
              HasSubstr("metadata: weight 'rows' has dtype bf16 but is a view of weight "
                        "'table' of dtype f32"));
  EXPECT_THAT(error([](auto &m) {
                m["weights"].push_back(viewEntry(m, "rows", 2, 4096, {512, 2}));
              }),
              HasSubstr("metadata: weight 'rows' has shape [512, 2], which is not whole "
                        "rows of weight 'table' [2048, 4]"));
  // At another weight's bytes (layers.w's page).
  EXPECT_THAT(error([](auto &m) {
                m["weights"].push_back(viewEntry(m, "rows", 2, 0, {256, 4}));
                m["weights"].back()["offset"] = m["weights"][0]["offset"];
              }),
              HasSubstr("which it is a view of"));
  EXPECT_THAT(error([](auto &m) {
                m["weights"].push_back(viewEntry(m, "rows", 3, 4096, {256, 3}));
              }),
              HasSubstr("metadata: weight 'rows' starts 4096 bytes into weight 'odd', "
                        "which is not at one of its rows (12 bytes each)"));
  // A view starts on the file's alignment, as every weight does.
  EXPECT_THAT(error([](auto &m) {
                m["weights"].push_back(viewEntry(m, "rows", 2, 16, {256, 4}));
              }),
              HasSubstr("is not aligned to 4096"));
  // Without view_of, the same range is an overlap.
  EXPECT_THAT(error([](auto &m) {
                m["weights"].push_back(viewEntry(m, "rows", 2, 4096, {256, 4}));
                m["weights"].back().erase("view_of");
              }),
              HasSubstr("overlaps weight 'table'"));
}

TEST(ArtifactTest, EachRanksViewIsRowsOfItsTable) {
  // Two ranks, each with its half of `table`'s rows as a view, as a tied
  // classifier split by vocabulary is stored.
  auto twoRanks = [](std::function<void(nlohmann::json &)> edit) {
    TestArtifact t = withViews([edit](nlohmann::json &m) {
      m["weights"].push_back(viewEntry(m, "rows", 2, 0, {1024, 4}));
      m["weights"].back()["xxh3"] = rampChecksum(0, 4096);
      nlohmann::json rank1 = m["weights"];
      rank1.back() = viewEntry(m, "rows", 2, 1024 * 16, {1024, 4});
      rank1.back()["xxh3"] = rampChecksum(4096, 4096);
      m["tensor_parallel"] = {{"ranks", 2},
                              {"rank_weights", {{{"rank", 1}, {"weights", rank1}}}}};
      edit(m);
    });
    t.metadata["model"]["heads"] = 2;
    t.metadata["model"]["kv_heads"] = 2;
    return t;
  };
  TempFile file("tp-views.llamac", twoRanks([](nlohmann::json &) {}).bytes());
  for (int64_t rank : {0, 1}) {
    absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path, rank);
    ASSERT_TRUE(a.ok()) << a.status();
    const std::vector<runtime::WeightInfo> &w = (*a)->weights();
    EXPECT_EQ(static_cast<const float *>(w[4].data)[0], rank * 4096.0f);
    Artifact::VerifiedWeights verified;
    EXPECT_TRUE((*a)->verifyWeights({}, &verified).ok());
    EXPECT_EQ(verified.tensors, 6u); // the four replicated tensors once
  }
  EXPECT_THAT(openError(twoRanks([](nlohmann::json &m) {
                m["tensor_parallel"]["rank_weights"][0]["weights"][4]["view_of"] = "nope";
              })),
              HasSubstr("metadata: weight 'rows' of rank 1 is a view of unknown weight "
                        "'nope'"));
}

TEST(ArtifactTest, WrongHeaderSize) {
  std::string bytes = smallArtifact().bytes();
  uint32_t size = 128;
  std::memcpy(bytes.data() + 12, &size, 4);
  EXPECT_THAT(openError(bytes), HasSubstr("header size 128 is not 64"));
}

TEST(ArtifactTest, Truncated) {
  std::string bytes = smallArtifact().bytes();
  size_t full = bytes.size();
  bytes.resize(full - 100);
  EXPECT_THAT(openError(bytes),
              HasSubstr("truncated: the header says " + std::to_string(full) +
                        " bytes but the file has " +
                        std::to_string(full - 100)));
  bytes.resize(5000);
  EXPECT_THAT(openError(bytes), HasSubstr("truncated"));
}

TEST(ArtifactTest, TrailingBytes) {
  std::string bytes = smallArtifact().bytes() + "junk";
  EXPECT_THAT(openError(bytes), HasSubstr("(corrupted)"));
}

TEST(ArtifactTest, MetadataOutsideFile) {
  // Resealed: the header's checksum would refuse a plain corruption first.
  std::string bytes = smallArtifact().bytes();
  uint64_t offset = bytes.size() - 10;
  std::memcpy(bytes.data() + 16, &offset, 8);
  test::resealHeader(bytes);
  EXPECT_THAT(openError(bytes), HasSubstr("lies outside the file"));
  uint64_t huge = ~uint64_t(0) - 4;
  std::memcpy(bytes.data() + 16, &huge, 8);
  test::resealHeader(bytes);
  EXPECT_THAT(openError(bytes), HasSubstr("lies outside the file"));
}

TEST(ArtifactTest, BitFlipInMetadata) {
  std::string bytes = smallArtifact().bytes();
  bytes[bytes.size() - 20] ^= 0x04;
  EXPECT_THAT(openError(bytes),
              HasSubstr("metadata checksum mismatch (the file is corrupted)"));
}

TEST(ArtifactTest, InvalidJson) {
  TestArtifact t = smallArtifact();
  // Valid checksum over invalid JSON: what a buggy writer would produce.
  std::string bytes = t.bytes();
  test::replaceMetadata(bytes, "{\"model\": ");
  EXPECT_THAT(openError(bytes), HasSubstr("metadata is not valid JSON"));
}

/// An artifact whose metadata `edit` changes.
std::string editedError(std::function<void(nlohmann::json &)> edit) {
  TestArtifact t = smallArtifact();
  t.editMetadata = std::move(edit);
  return openError(t);
}

TEST(ArtifactTest, MissingField) {
  EXPECT_THAT(editedError([](auto &m) { m["model"].erase("vocab"); }),
              HasSubstr("metadata: model.vocab is missing"));
  EXPECT_THAT(editedError([](auto &m) { m.erase("kv_cache"); }),
              HasSubstr("metadata: kv_cache is missing"));
  EXPECT_THAT(editedError([](auto &m) { m.erase("entry_points"); }),
              HasSubstr("metadata: entry_points is missing"));
  EXPECT_THAT(editedError([](auto &m) { m["entry_points"].erase("decode"); }),
              HasSubstr("metadata: entry_points has no one-token entry point "
                        "(the decode step)"));
  EXPECT_THAT(editedError([](auto &m) { m["entry_points"]["decode"].erase("graph"); }),
              HasSubstr("metadata: entry_points.decode.graph is missing"));
  EXPECT_THAT(editedError([](auto &m) { m["entry_points"]["decode"]["graph"] = 1; }),
              HasSubstr("metadata: entry_points.decode.graph must be a boolean"));
  EXPECT_THAT(editedError([](auto &m) {
                m["entry_points"]["decode"]["logits_rows"] = "some";
              }),
              HasSubstr("entry_points.decode.logits_rows must be \"all\" or "
                        "\"last\", not \"some\""));
  EXPECT_THAT(editedError([](auto &m) {
                m["entry_points"]["decode"]["schedule"].erase("epilogue");
              }),
              HasSubstr("entry_points.decode.schedule.epilogue is missing"));
}

TEST(ArtifactTest, WrongFieldType) {
  EXPECT_THAT(editedError([](auto &m) { m["model"]["dim"] = "64"; }),
              HasSubstr("metadata: model.dim must be an integer"));
  EXPECT_THAT(editedError([](auto &m) { m["model"]["norm_eps"] = true; }),
              HasSubstr("model.norm_eps must be a number"));
  EXPECT_THAT(
      editedError([](auto &m) { m["weights"] = nlohmann::json::object(); }),
      HasSubstr("metadata: weights must be an array"));
  EXPECT_THAT(editedError([](auto &m) { m["model"]["eos"] = {"x"}; }),
              HasSubstr("model.eos[0] must be an integer"));
  EXPECT_THAT(editedError([](auto &m) { m["model"]["layers"] = 0; }),
              HasSubstr("model.layers must be positive, not 0"));
  EXPECT_THAT(editedError([](auto &m) { m["model"]["bos"] = 99; }),
              HasSubstr("model.bos 99 is outside the vocabulary"));
  EXPECT_THAT(editedError([](auto &m) { m["target"]["bf16_dot"] = 1; }),
              HasSubstr("target.bf16_dot must be a boolean"));
  EXPECT_THAT(editedError([](auto &m) { m["target"]["amx"] = "always"; }),
              HasSubstr("target.amx is 'always' (expected variants or emulated)"));
  EXPECT_THAT(editedError([](auto &m) { m["target"]["amx_features"] = {"amx_tile"}; }),
              HasSubstr("target.amx_features is only allowed with amx 'variants'"));
  EXPECT_THAT(editedError([](auto &m) {
                m["target"]["amx"] = "variants";
                m["target"]["amx_features"] = {"amx_tile", "amx_fp16"};
              }),
              HasSubstr("target.amx_features has 'amx_fp16' (expected amx_tile, amx_bf16, "
                        "amx_int8)"));
}

// A mixture's experts: decode traffic divides the experts' bytes by
// `experts`, so the two fields come together and k fits E.
TEST(ArtifactTest, ExpertsFieldsMustFitEachOther) {
  EXPECT_THAT(editedError([](auto &m) { m["model"]["experts_per_token"] = 2; }),
              HasSubstr("model.experts_per_token 2 does not fit model.experts 0 (both or "
                        "neither, at most experts)"));
  EXPECT_THAT(editedError([](auto &m) { m["model"]["experts"] = 8; }),
              HasSubstr("model.experts_per_token 0 does not fit model.experts 8"));
  EXPECT_THAT(editedError([](auto &m) {
                m["model"]["experts"] = 2;
                m["model"]["experts_per_token"] = 3;
              }),
              HasSubstr("model.experts_per_token 3 does not fit model.experts 2"));
  EXPECT_THAT(editedError([](auto &m) { m["model"]["experts"] = "8"; }),
              HasSubstr("model.experts must be an integer"));
}

TEST(ArtifactTest, WeightSizeMismatch) {
  EXPECT_THAT(editedError([](auto &m) { m["weights"][0]["size"] = 12; }),
              HasSubstr("weight 'layers.w' has size 12 but its shape and "
                        "dtype need 16 bytes"));
  EXPECT_THAT(editedError([](auto &m) { m["weights"][1]["dtype"] = "bf16"; }),
              HasSubstr("weight 'embed' has size 256 but its shape and dtype "
                        "need 128 bytes"));
}

TEST(ArtifactTest, SectionsInsideTheFileAndAligned) {
  EXPECT_THAT(
      editedError([](auto &m) { m["weights"][1]["offset"] = 1u << 30; }),
      HasSubstr("weight 'embed' [1073741824, +256) lies outside the file"));
  EXPECT_THAT(editedError([](auto &m) { m["kernels"]["offset"] = 4100; }),
              HasSubstr("kernels offset 4100 is not aligned to 4096"));
  EXPECT_THAT(editedError([](auto &m) { m["tokenizer"]["offset"] = 0; }),
              HasSubstr("tokenizer offset 0 overlaps the header"));
  EXPECT_THAT(
      editedError([](auto &m) { m["tokenizer"]["size"] = ~uint64_t(0) >> 1; }),
      HasSubstr("lies outside the file"));
}

TEST(ArtifactTest, BindingToUnknownBuffer) {
  EXPECT_THAT(
      editedError([](auto &m) {
        m["entry_points"]["prefill"]["schedule"]["layer_body"][0]["bindings"][0]
         ["id"] = 9;
      }),
      HasSubstr("entry_points.prefill.schedule.layer_body[0].bindings[0] "
                "refers to unknown buffer 9"));
}

TEST(ArtifactTest, BadBindings) {
  auto binding = [](nlohmann::json &m) -> nlohmann::json & {
    return m["entry_points"]["decode"]["schedule"]["layer_body"][0]["bindings"];
  };
  EXPECT_THAT(editedError([&](auto &m) { binding(m)[1]["name"] = "nope"; }),
              HasSubstr("refers to unknown weight 'nope'"));
  EXPECT_THAT(editedError([&](auto &m) { binding(m)[2]["per_layer"] = true; }),
              HasSubstr("binds weight 'embed' per layer, but its leading "
                        "dimension is not model.layers (1)"));
  EXPECT_THAT(editedError([&](auto &m) { binding(m)[3]["kind"] = "q_cache"; }),
              HasSubstr("layer_body[0].bindings[3].kind is \"q_cache\", not one of "
                        "\"buffer\", \"weight\", \"k_cache\", \"v_cache\", \"tokens\""));
  EXPECT_THAT(
      editedError([](auto &m) {
        m["entry_points"]["decode"]["schedule"]["layer_body"][0]["scalars"] = {
            "pos", "step"};
      }),
      HasSubstr("layer_body[0].scalars[1] is \"step\", not one of \"pos\", "
                "\"layer\", \"rows\""));
  EXPECT_THAT(
      editedError([](auto &m) {
        m["entry_points"]["decode"]["schedule"]["layer_body"][0]["kernel"] =
            "k0; rm -rf";
      }),
      HasSubstr("kernel must be a C identifier"));
  EXPECT_THAT(
      editedError([](auto &m) {
        m["entry_points"]["decode"]["schedule"]["layer_body"][0]["range"] = 0;
      }),
      HasSubstr("range must be positive"));
}

TEST(ArtifactTest, LogitsBuffer) {
  EXPECT_THAT(
      editedError([](auto &m) { m["entry_points"]["decode"]["logits"] = 5; }),
      HasSubstr("entry_points.decode.logits refers to unknown buffer 5"));
  EXPECT_THAT(
      editedError([](auto &m) { m["entry_points"]["decode"]["logits"] = 0; }),
      HasSubstr("buffer 0 is not an f32 [1, 16] buffer"));
}

TEST(ArtifactTest, KVCacheMustMatchTheModel) {
  EXPECT_THAT(editedError([](auto &m) { m["kv_cache"]["kv_heads"] = 2; }),
              HasSubstr("kv_cache does not match the model"));
  EXPECT_THAT(
      editedError([](auto &m) { m["kv_cache"]["positions"] = 4; }),
      HasSubstr("kv_cache.positions 4 is less than model.max_seq_len 8 and the model has no "
                "sliding_window"));
}

// Fewer positions than the context make a ring, which a sliding window
// allows when the ring holds the window and one call's rows.
TEST(ArtifactTest, ARingCacheHoldsTheWindowAndOneCall) {
  TestArtifact t = smallArtifact();
  t.editMetadata = [](auto &m) {
    m["model"]["sliding_window"] = 3;
    m["kv_cache"]["positions"] = 4; // the window + the 2-token prefill chunk - 1
  };
  TempFile file("ring.llamac", t.bytes());
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE((*a)->kvCache().ring);
  EXPECT_THAT(editedError([](auto &m) {
                m["model"]["sliding_window"] = 4;
                m["kv_cache"]["positions"] = 4; // enough for decode, not for prefill
              }),
              HasSubstr("kv_cache.positions a ring of 4 positions is shorter than "
                        "model.sliding_window 4 + the 2 tokens of entry point prefill - 1"));
}

TEST(ArtifactTest, NeedsAOneTokenStep) {
  EXPECT_THAT(editedError([](auto &m) {
                m["entry_points"]["decode"]["tokens"] = 2;
                m["entry_points"]["decode"]["buffers"][1]["shape"] = {2, 16};
              }),
              HasSubstr("entry_points has no one-token entry point"));
}

TEST(ArtifactTest, EntryPointsAreChosenByTheirMetadata) {
  // Names are labels: the step is the one-token entry point and the chunk
  // the longest one returning every row, whatever they are called.
  TestArtifact t = smallArtifact();
  t.editMetadata = [](nlohmann::json &m) {
    nlohmann::json &eps = m["entry_points"];
    eps["step"] = eps["decode"];
    eps["chunk"] = eps["prefill"];
    eps.erase("decode");
    eps.erase("prefill");
  };
  TempFile file("renamed.llamac", t.bytes());
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path);
  ASSERT_TRUE(a.ok()) << a.status();
  const runtime::ArtifactMetadata &meta = (*a)->metadata();
  ASSERT_NE(meta.stepEntryPoint(), nullptr);
  EXPECT_EQ(meta.stepEntryPoint()->name, "step");
  EXPECT_TRUE(meta.stepEntryPoint()->captureAsGraph);
  ASSERT_NE(meta.chunkEntryPoint(), nullptr);
  EXPECT_EQ(meta.chunkEntryPoint()->name, "chunk");
  EXPECT_FALSE(meta.chunkEntryPoint()->captureAsGraph);
}

TEST(ArtifactTest, LastRowChunkIsFoundByItsLogitRows) {
  // Prompts whose logits only the last token needs take the longest chunk
  // with logits_rows "last" (a [1, vocab] logits buffer); eval's all-rows
  // chunk is still the longest one returning every row.
  auto lastRowCopy = [](nlohmann::json &m, const std::string &name) {
    nlohmann::json &ep = m["entry_points"][name];
    ep = m["entry_points"]["prefill"];
    ep["logits_rows"] = "last";
    for (nlohmann::json &buffer : ep["buffers"])
      if (buffer["id"] == ep["logits"])
        buffer["shape"][0] = 1;
  };
  TestArtifact t = smallArtifact();
  t.editMetadata = [&](nlohmann::json &m) { lastRowCopy(m, "tail"); };
  TempFile file("last-row.llamac", t.bytes());
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path);
  ASSERT_TRUE(a.ok()) << a.status();
  const runtime::ArtifactMetadata &meta = (*a)->metadata();
  ASSERT_NE(meta.lastRowChunkEntryPoint(), nullptr);
  EXPECT_EQ(meta.lastRowChunkEntryPoint()->name, "tail");
  EXPECT_FALSE(meta.lastRowChunkEntryPoint()->allLogitRows);
  ASSERT_NE(meta.chunkEntryPoint(), nullptr);
  EXPECT_EQ(meta.chunkEntryPoint()->name, "prefill");

  // Without one (older artifacts, GPU targets) prompts take the all-rows chunk.
  absl::StatusOr<std::unique_ptr<Artifact>> plain = Artifact::open(
      TempFile("all-rows.llamac", smallArtifact().bytes()).path);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->metadata().lastRowChunkEntryPoint(), nullptr);

  // "last" with a logits buffer of every row is refused.
  EXPECT_THAT(editedError([](auto &m) {
                m["entry_points"]["prefill"]["logits_rows"] = "last";
              }),
              HasSubstr("is not an f32 [1, "));
}

TEST(ArtifactTest, VerifyIsFoundByRowsMatchingTheStep) {
  // Speculative decoding's verify: an all-rows entry point marked
  // rows_match_step, the one with the fewest tokens that fit k + 1. A chunk
  // without the mark never serves, whatever its name or size.
  TestArtifact t = smallArtifact();
  t.editMetadata = [](nlohmann::json &m) {
    nlohmann::json &eps = m["entry_points"];
    eps["score"] = eps["prefill"];
    eps["score"]["rows_match_step"] = true;
  };
  TempFile file("verify.llamac", t.bytes());
  absl::StatusOr<std::unique_ptr<Artifact>> a = Artifact::open(file.path);
  ASSERT_TRUE(a.ok()) << a.status();
  const runtime::ArtifactMetadata &meta = (*a)->metadata();
  const int64_t tokens = meta.findEntryPoint("score")->tokens;
  EXPECT_EQ(meta.maxSpeculateK(), tokens - 1);
  ASSERT_NE(meta.verifyEntryPoint(1), nullptr);
  EXPECT_EQ(meta.verifyEntryPoint(1)->name, "score");
  EXPECT_EQ(meta.verifyEntryPoint(tokens - 1)->name, "score");
  EXPECT_EQ(meta.verifyEntryPoint(tokens), nullptr);
  EXPECT_FALSE(meta.findEntryPoint("prefill")->rowsMatchStep);
  EXPECT_FALSE(meta.findEntryPoint("decode")->rowsMatchStep);

  // Without the mark (an artifact of --speculate-k 0, or older): none.
  absl::StatusOr<std::unique_ptr<Artifact>> plain = Artifact::open(
      TempFile("plain.llamac", smallArtifact().bytes()).path);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->metadata().maxSpeculateK(), 0);
  EXPECT_EQ((*plain)->metadata().verifyEntryPoint(1), nullptr);

  EXPECT_THAT(editedError([](auto &m) {
                m["entry_points"]["prefill"]["rows_match_step"] = "yes";
              }),
              HasSubstr("entry_points.prefill.rows_match_step must be a boolean"));
}

TEST(ArtifactTest, SurvivesCorruptedMetadataWithAValidChecksum) {
  // What a buggy writer could produce: every byte of the metadata altered in
  // turn, the checksum recomputed. open() must return, never crash.
  std::string good = smallArtifact().bytes();
  artifact::Header header;
  std::memcpy(&header, good.data(), sizeof(header));
  int opened = 0, attempts = 0;
  for (uint64_t i = 0; i < header.metadataSize; ++i) {
    for (char replacement : {'0', '-', '9', '"', '}', 'x'}) {
      std::string bytes = good;
      char &c = bytes[header.metadataOffset + i];
      if (c == replacement)
        continue;
      c = replacement;
      ++attempts;
      test::resealHeader(bytes);
      TempFile file("fuzz.llamac", bytes);
      opened += Artifact::open(file.path).ok();
    }
  }
  // Some edits are harmless (a digit of norm_eps); most are refused.
  EXPECT_LT(opened * 2, attempts) << opened << " of " << attempts << " edits opened";
}

} // namespace
} // namespace llamac
