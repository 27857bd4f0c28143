//===- TestArtifact.cpp - synthetic artifacts for runtime tests -----------===//

#include "test/runtime/TestArtifact.h"
#include "runtime/artifact/ArtifactFormat.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <xxhash.h>

namespace llamac::test {

using nlohmann::json;

namespace {

uint64_t alignUp(uint64_t v) {
  uint64_t a = artifact::kSectionAlignment;
  return (v + a - 1) / a * a;
}

std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(value));
  return text;
}

std::string xxh3Hex(const void *data, uint64_t size) {
  return hex(XXH3_64bits(data, size));
}

void placeAt(std::string &file, uint64_t offset, const void *data,
             uint64_t size) {
  if (file.size() < offset + size)
    file.resize(offset + size, '\0');
  std::memcpy(file.data() + offset, data, size);
}

} // namespace

std::string TestArtifact::layout(json &meta) const {
  meta = metadata;
  std::string file(artifact::kSectionAlignment, '\0');
  uint64_t offset = artifact::kSectionAlignment;
  meta["tokenizer"] = {{"kind", "sentencepiece"},
                       {"offset", offset},
                       {"size", tokenizer.size()},
                       {"xxh3", xxh3Hex(tokenizer.data(), tokenizer.size())}};
  placeAt(file, offset, tokenizer.data(), tokenizer.size());
  offset = alignUp(offset + tokenizer.size());
  meta["kernels"] = {{"format", kernelFormat},
                     {"offset", offset},
                     {"size", kernels.size()},
                     {"xxh3", xxh3Hex(kernels.data(), kernels.size())}};
  placeAt(file, offset, kernels.data(), kernels.size());
  offset = alignUp(offset + kernels.size());
  if (!kernelsPtx.empty()) {
    meta["kernels_ptx"] = {{"format", "ptx"},
                           {"offset", offset},
                           {"size", kernelsPtx.size()},
                           {"xxh3", xxh3Hex(kernelsPtx.data(), kernelsPtx.size())}};
    placeAt(file, offset, kernelsPtx.data(), kernelsPtx.size());
    offset = alignUp(offset + kernelsPtx.size());
  }
  meta["weights"] = json::array();
  for (const TestWeight &w : weights) {
    uint64_t size = w.data.size() * sizeof(float);
    meta["weights"].push_back({{"name", w.name},
                               {"dtype", "f32"},
                               {"shape", w.shape},
                               {"offset", offset},
                               {"size", size},
                               {"xxh3", xxh3Hex(w.data.data(), size)}});
    placeAt(file, offset, w.data.data(), size);
    offset = alignUp(offset + size);
  }
  if (editMetadata)
    editMetadata(meta);
  file.resize(offset, '\0');
  return file;
}

json TestArtifact::completeMetadata() const {
  json meta;
  layout(meta);
  return meta;
}

std::string TestArtifact::bytes() const {
  json meta;
  std::string file = layout(meta);
  const uint64_t offset = file.size();
  std::string text = meta.dump();
  file += text;

  artifact::Header header{};
  std::memcpy(header.magic, artifact::kMagic, sizeof(header.magic));
  header.formatVersion = artifact::kFormatVersion;
  header.headerSize = sizeof(header);
  header.metadataOffset = offset;
  header.metadataSize = text.size();
  std::memcpy(file.data(), &header, sizeof(header));
  resealHeader(file);
  return file;
}

void resealHeader(std::string &bytes) {
  artifact::Header header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  header.fileSize = bytes.size();
  if (header.metadataOffset <= bytes.size() &&
      header.metadataSize <= bytes.size() - header.metadataOffset)
    header.metadataChecksum = XXH3_64bits(bytes.data() + header.metadataOffset,
                                          header.metadataSize);
  // The header's own checksum covers its 64 bytes with this field zero.
  header.headerChecksum = 0;
  header.headerChecksum = XXH3_64bits(&header, sizeof(header));
  std::memcpy(bytes.data(), &header, sizeof(header));
}

void replaceMetadata(std::string &bytes, const std::string &text) {
  artifact::Header header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  bytes.resize(header.metadataOffset);
  bytes += text;
  header.metadataSize = text.size();
  std::memcpy(bytes.data(), &header, sizeof(header));
  resealHeader(bytes);
}

TestArtifact smallArtifact() {
  TestArtifact a;
  a.metadata = {
      {"producer", "runtime test"},
      {"model",
       {{"dim", 4},
        {"hidden_dim", 8},
        {"layers", 1},
        {"heads", 1},
        {"kv_heads", 1},
        {"head_dim", 4},
        {"vocab", 16},
        {"max_seq_len", 8},
        {"norm_eps", 1e-5},
        {"rope_theta", 10000.0},
        {"bos", 1},
        {"eos", {2}}}},
      {"target",
       {{"name", "cpu"}, {"chip", "test"}, {"cpu_features", json::array()}}},
      {"kv_cache",
       {{"dtype", "f32"},
        {"layers", 1},
        {"kv_heads", 1},
        {"positions", 10},
        {"head_dim", 4}}},
  };
  auto entry = [](int tokens) {
    json dispatch = {
        {"kernel", "k0_add"},
        {"bindings",
         {{{"kind", "buffer"}, {"id", 0}},
          {{"kind", "weight"}, {"name", "layers.w"}, {"per_layer", true}},
          {{"kind", "weight"}, {"name", "embed"}, {"per_layer", false}},
          {{"kind", "k_cache"}},
          {{"kind", "v_cache"}},
          {{"kind", "tokens"}},
          {{"kind", "buffer"}, {"id", 1}}}},
        {"scalars", {"pos", "layer"}},
        {"range", 4}};
    return json{{"tokens", tokens},
                {"logits_rows", "all"},
                {"graph", tokens == 1},
                {"buffers",
                 {{{"id", 0}, {"dtype", "f32"}, {"shape", {tokens, 4}}},
                  {{"id", 1}, {"dtype", "f32"}, {"shape", {tokens, 16}}}}},
                {"logits", 1},
                {"schedule",
                 {{"prologue", json::array()},
                  {"layer_body", {dispatch}},
                  {"epilogue", json::array()}}}};
  };
  a.metadata["entry_points"] = {{"decode", entry(1)}, {"prefill", entry(2)}};
  a.tokenizer = "not a real tokenizer";
  a.kernels = "\x7f"
              "ELF placeholder";
  a.weights = {{"layers.w", {1, 4}, {1, 2, 3, 4}},
               {"embed", {16, 4}, std::vector<float>(64, 0.5f)}};
  return a;
}

TestArtifact gpuArtifact(const std::string &target) {
  TestArtifact a = smallArtifact();
  const bool nvvm = target == "nvvm";
  a.metadata["target"] = {{"name", target}, {"chip", nvvm ? "sm_90" : "gfx942"}};
  a.kernelFormat = nvvm ? "cubin" : "hsaco";
  a.kernels = "\x7f"
              "ELF placeholder code object";
  if (nvvm)
    a.kernelsPtx = ".version 8.0\n.target sm_90\n";
  for (const char *name : {"decode", "prefill"}) {
    json &dispatch =
        a.metadata["entry_points"][name]["schedule"]["layer_body"][0];
    dispatch.erase("range");
    dispatch["launch"] = {
        {"grid", {4, 1, 1}}, {"block", {32, 1, 1}}, {"shared_bytes", 0}};
  }
  return a;
}

TempFile::TempFile(const std::string &name, const std::string &bytes) {
  const char *dir = std::getenv("TMPDIR");
  std::string base = dir && *dir ? dir : "/tmp";
  path = base + "/llamac-rt-" + std::to_string(getpid()) + "-" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TempFile::~TempFile() { unlink(path.c_str()); }

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace llamac::test
