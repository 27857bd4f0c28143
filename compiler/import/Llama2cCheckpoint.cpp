//===- Llama2cCheckpoint.cpp - llama2.c .bin checkpoints ------------------===//

#include "compiler/import/Llama2cCheckpoint.h"

#include "compiler/support/InputFile.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using llvm::StringRef;

namespace llamac {
namespace {

constexpr uint64_t kHeaderBytes = 7 * sizeof(int32_t);

/// One f32 array of the file, in file order, and the canonical weight it
/// becomes (nullptr for arrays that are skipped).
struct Segment {
  const char *canonical;
  std::vector<int64_t> shape;
};

/// The arrays after the header, in the order llama2.c's export writes them.
std::vector<Segment> segmentsFor(const ModelConfig &c, bool sharedClassifier) {
  using namespace weight_names;
  int64_t L = c.layers, D = c.dim, F = c.hiddenDim, V = c.vocab;
  int64_t q = c.heads * c.headDim, kv = c.kvHeads * c.headDim;
  std::vector<Segment> segments = {
      {kTokEmbeddings, {V, D}},
      {kAttnNorm, {L, D}},
      {kWq, {L, q, D}},
      {kWk, {L, kv, D}},
      {kWv, {L, kv, D}},
      {kWo, {L, D, q}},
      {kFfnNorm, {L, D}},
      {kW1, {L, F, D}},
      {kW2, {L, D, F}},
      {kW3, {L, F, D}},
      {kNorm, {D}},
      // freq_cis_real and freq_cis_imag: precomputed RoPE tables that the
      // forward pass recomputes, so they are skipped.
      {nullptr, {c.maxSeqLen, c.headDim / 2}},
      {nullptr, {c.maxSeqLen, c.headDim / 2}},
  };
  if (!sharedClassifier)
    segments.push_back({kOutput, {V, D}});
  return segments;
}

/// A tokenizer file given as the checkpoint (a sentencepiece or tiktoken
/// tokenizer.model, a tokenizer.json), as a message; empty when it is not
/// one. Asked only of a file whose header is not a llama2.c one.
std::string tokenizerGivenAsCheckpoint(StringRef bytes) {
  if (bytes.size() > kMaxTokenizerFileBytes)
    return "";
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      Tokenizer::loadFromSerialized(std::string_view(bytes.data(), bytes.size()));
  if (!tokenizer.ok())
    return "";
  return llvm::formatv("this is a {0} tokenizer file, not a checkpoint: give llamac the "
                       "checkpoint (a llama2.c .bin or a Hugging Face directory), and this "
                       "file with --tokenizer if it is not the one beside it",
                       (*tokenizer)->kind())
      .str();
}

/// What a file given as a llama2.c checkpoint is when it is recognizably
/// something else, as a message; empty when it is not recognized. Without
/// this, any such file fails on a header field ("dim 1634415666 is not
/// divisible by n_heads 172"), which hides the mistake.
std::string otherFormatOf(StringRef bytes) {
  if (bytes.starts_with(llvm::StringRef(artifact::kMagic, sizeof(artifact::kMagic))))
    return "this is a llamac artifact, compiled already: run it with llama-run, or give "
           "llamac the checkpoint it was compiled from";
  if (bytes.starts_with("GGUF"))
    return "this is a GGUF file, which llamac does not import: give it the Hugging Face "
           "checkpoint directory (safetensors) or a llama2.c checkpoint";
  // llama2.c's export.py writes the magic 0x616b3432 ("ak42"), then the
  // version, before a newer header.
  if (bytes.size() >= 8 && llvm::support::endian::read32le(bytes.data()) == 0x616b3432)
    return llvm::formatv("this is a llama2.c version-{0} export; llamac reads the legacy "
                         "version-0 format (llama2.c's export.py --version 0) or the Hugging "
                         "Face checkpoint directory",
                         llvm::support::endian::read32le(bytes.data() + 4))
        .str();
  // safetensors: an 8-byte header size, then the JSON header.
  if (bytes.size() >= 9 && bytes[8] == '{' &&
      llvm::support::endian::read64le(bytes.data()) <= bytes.size() - 8)
    return "this is a safetensors file: give llamac the Hugging Face checkpoint directory "
           "that holds it and its config.json";
  // A config.json given for its directory, or a tokenizer.json. (No
  // llama2.c header starts so: its dim would be odd.)
  if (bytes.starts_with("{")) {
    std::string tokenizer = tokenizerGivenAsCheckpoint(bytes);
    return !tokenizer.empty() ? tokenizer
                              : "this is a JSON file, not a checkpoint: give llamac the Hugging "
                                "Face checkpoint directory that holds config.json";
  }
  return "";
}

} // namespace

llvm::Expected<Checkpoint> importLlama2c(StringRef binPath,
                                         StringRef tokenizerPath) {
  auto fail = [&](const llvm::Twine &message) {
    return llvm::createStringError(binPath + ": " + message);
  };
  // Only a regular file: a FIFO or /dev/zero is refused, not read.
  auto buffer = readInputFile(binPath);
  if (!buffer)
    return buffer.takeError();
  std::shared_ptr<const llvm::MemoryBuffer> mapping = std::move(*buffer);
  StringRef bytes = mapping->getBuffer();
  if (std::string other = otherFormatOf(bytes); !other.empty())
    return fail(other);
  if (bytes.size() < kHeaderBytes)
    return fail(llvm::formatv("file is {0} bytes, too short for the 28-byte "
                              "llama2.c header",
                              bytes.size()));

  int32_t header[7];
  for (int i = 0; i < 7; ++i)
    header[i] = llvm::support::endian::read32le(bytes.data() + 4 * i);
  const char *fieldNames[7] = {"dim",     "hidden_dim", "n_layers",
                               "n_heads", "n_kv_heads", "vocab_size",
                               "seq_len"};
  // A header no llama2.c export writes: a tokenizer given by mistake is
  // said to be one, not reported by the field it fails on.
  auto notAHeader = [&](llvm::Error headerError) -> llvm::Error {
    std::string tokenizer = tokenizerGivenAsCheckpoint(bytes);
    if (tokenizer.empty())
      return headerError;
    llvm::consumeError(std::move(headerError));
    return fail(tokenizer);
  };
  for (int i = 0; i < 7; ++i)
    if (header[i] == 0 || (i != 5 && header[i] < 0))
      return notAHeader(fail(llvm::formatv("header field {0} is {1}; is this a llama2.c "
                                           "version-0 checkpoint?",
                                           fieldNames[i], header[i])));

  Checkpoint checkpoint;
  checkpoint.files.push_back(binPath.str());
  ModelConfig &config = checkpoint.config;
  config.dim = header[0];
  config.hiddenDim = header[1];
  config.layers = header[2];
  config.heads = header[3];
  config.kvHeads = header[4];
  bool sharedClassifier = header[5] > 0;
  config.vocab = sharedClassifier ? header[5] : -int64_t(header[5]);
  config.maxSeqLen = header[6];
  if (config.dim % config.heads != 0)
    return notAHeader(fail(llvm::formatv("dim {0} is not divisible by n_heads {1}",
                                         config.dim, config.heads)));
  config.headDim = config.dim / config.heads;
  config.normEps = 1e-5f;
  config.ropeTheta = 10000.0f;
  config.tiedEmbeddings = sharedClassifier;
  config.ropeLayout = RopeLayout::Interleaved;
  config.bos = 1;
  config.eos = {1};
  if (llvm::Error err = config.validate(binPath))
    return notAHeader(std::move(err));

  // Header values are at most 2^31 each, so products of three fit in
  // uint64 only barely; check every step instead of trusting that.
  std::vector<Segment> segments = segmentsFor(config, sharedClassifier);
  uint64_t expectedBytes = kHeaderBytes;
  for (const Segment &segment : segments) {
    uint64_t elements = 1;
    for (int64_t dim : segment.shape)
      if (__builtin_mul_overflow(elements, uint64_t(dim), &elements))
        return fail("header sizes overflow");
    if (__builtin_add_overflow(expectedBytes, elements * 4, &expectedBytes) ||
        elements > (UINT64_MAX >> 2))
      return fail("header sizes overflow");
  }
  if (expectedBytes != bytes.size())
    return fail(llvm::formatv("header says {0} bytes, file has {1}",
                              expectedBytes, bytes.size()));

  checkpoint.weights.retainMapping(mapping);
  const uint8_t *cursor =
      reinterpret_cast<const uint8_t *>(bytes.data()) + kHeaderBytes;
  for (const Segment &segment : segments) {
    uint64_t size = 4;
    for (int64_t dim : segment.shape)
      size *= dim;
    if (segment.canonical) {
      WeightEntry entry;
      entry.name = segment.canonical;
      entry.shape = segment.shape;
      entry.parts.push_back({DType::F32, llvm::ArrayRef<uint8_t>(cursor, size),
                             (binPath + ": " + segment.canonical).str()});
      if (llvm::Error err = checkpoint.weights.add(std::move(entry)))
        return std::move(err);
    }
    cursor += size;
  }
  if (sharedClassifier) {
    WeightEntry output =
        *checkpoint.weights.lookup(weight_names::kTokEmbeddings);
    output.name = weight_names::kOutput;
    output.aliasOf = weight_names::kTokEmbeddings;
    if (llvm::Error err = checkpoint.weights.add(std::move(output)))
      return std::move(err);
  }

  if (!tokenizerPath.empty()) {
    checkpoint.tokenizerPath = tokenizerPath.str();
  } else {
    llvm::SmallString<256> beside = llvm::sys::path::parent_path(binPath);
    llvm::sys::path::append(beside, "tokenizer.model");
    checkpoint.tokenizerPath = std::string(beside);
  }
  if (!llvm::sys::fs::exists(checkpoint.tokenizerPath))
    return llvm::createStringError(
        checkpoint.tokenizerPath +
        ": tokenizer not found (pass --tokenizer, or put the sentencepiece "
        "tokenizer.model beside " +
        binPath + ")");
  return checkpoint;
}

} // namespace llamac
