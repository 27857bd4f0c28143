//===- ArtifactWriter.cpp - write a compiled model to disk ----------------===//

#include "compiler/artifact/ArtifactWriter.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/artifact/Checksum.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace llamac {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Bytes of converted weights written per write(): large enough that
/// system calls cost nothing next to the conversion, small next to the
/// memory a compile needs anyway.
constexpr size_t kWeightChunkBytes = size_t(8) << 20;

uint64_t alignUp(uint64_t value) {
  uint64_t a = artifact::kSectionAlignment;
  return (value + a - 1) / a * a;
}

/// The model description the artifact's metadata holds, from the IR's.
runtime::ModelInfo modelInfo(mlir::llama::ConfigAttr c) {
  runtime::ModelInfo m;
  m.dim = c.getDim();
  m.hiddenDim = c.getHiddenDim();
  m.layers = c.getLayers();
  m.heads = c.getHeads();
  m.kvHeads = c.getKvHeads();
  m.headDim = c.getHeadDim();
  m.vocab = c.getVocab();
  m.maxSeqLen = c.getMaxSeqLen();
  m.normEps = c.getNormEps().convertToDouble();
  m.ropeTheta = c.getRopeTheta().convertToDouble();
  m.bos = c.getBos();
  m.eos.assign(c.getEos().asArrayRef().begin(), c.getEos().asArrayRef().end());
  return m;
}

/// Writes at explicit offsets, zero-filling the gaps, so that sections land
/// on their aligned offsets.
class SectionWriter {
public:
  explicit SectionWriter(llvm::raw_fd_ostream &os) : os(os) {}
  void padTo(uint64_t offset) {
    static const char zeros[4096] = {};
    while (position < offset) {
      uint64_t n = std::min<uint64_t>(sizeof(zeros), offset - position);
      os.write(zeros, n);
      position += n;
    }
  }
  void write(const void *data, uint64_t size) {
    os.write(static_cast<const char *>(data), size);
    position += size;
  }
  uint64_t tell() const { return position; }

private:
  llvm::raw_fd_ostream &os;
  uint64_t position = 0;
};

} // namespace

llvm::Expected<uint64_t> writeArtifact(const std::string &path,
                                       const ArtifactContents &c,
                                       const WriteProgress &progress) {
  // Plan the layout: tokenizer, kernels, weights, then metadata.
  uint64_t offset = artifact::kSectionAlignment;
  uint64_t tokenizerOffset = offset;
  offset = alignUp(offset + c.tokenizer.size());
  uint64_t kernelsOffset = offset;
  offset = alignUp(offset + c.kernelLibrary.size());
  uint64_t ptxOffset = offset;
  offset = alignUp(offset + c.kernelPtx.size());

  runtime::ArtifactMetadata meta;
  meta.producer = "llamac 0.1";
  meta.model = modelInfo(c.config);
  meta.target.name = c.targetName;
  meta.target.chip = c.chip;
  meta.target.bf16Dot = c.bf16Dot;
  if (c.targetName == "cpu")
    meta.target.cpuFeatures = c.cpuFeatures;
  meta.tokenizer = {"sentencepiece", tokenizerOffset, c.tokenizer.size(),
                    artifact::checksum(c.tokenizer.data(), c.tokenizer.size())};
  meta.kernels = {c.kernelFormat, kernelsOffset, c.kernelLibrary.size(),
                  artifact::checksum(c.kernelLibrary.data(), c.kernelLibrary.size())};
  if (!c.kernelPtx.empty())
    meta.kernelsPtx = runtime::SectionInfo{
        "ptx", ptxOffset, c.kernelPtx.size(),
        artifact::checksum(c.kernelPtx.data(), c.kernelPtx.size())};

  struct Planned {
    const WeightSpec *spec;
    uint64_t offset, size;
  };
  std::vector<Planned> planned;
  uint64_t totalWeightBytes = 0;
  for (const WeightSpec &spec : c.weightTable) {
    uint64_t size = spec.byteSize();
    planned.push_back({&spec, offset, size});
    runtime::WeightInfo weight;
    weight.name = spec.name;
    weight.dtype = spec.dtype;
    weight.shape = spec.shape;
    weight.offset = offset;
    weight.size = size;
    meta.weights.push_back(std::move(weight));
    totalWeightBytes += size;
    offset = alignUp(offset + size);
  }

  meta.kvCache.dtype = c.cacheType;
  meta.kvCache.layers = meta.model.layers;
  meta.kvCache.kvHeads = meta.model.kvHeads;
  meta.kvCache.positions = c.cachePositions;
  meta.kvCache.headDim = meta.model.headDim;
  for (const EntryPoint &ep : c.entryPoints)
    meta.entryPoints[ep.name] = ep;
  // The metadata follows the weights: it holds their checksums, known once
  // they are streamed, and the header (written last) holds its own.
  uint64_t metadataOffset = offset;

  std::string tmpPath = path + ".tmp";
  // An interrupted compile (Ctrl-C, SIGTERM) removes its partial file; the
  // final name only ever holds a complete artifact (rename below).
  llvm::sys::RemoveFileOnSignal(tmpPath);
  auto forgetTmp = llvm::make_scope_exit([&] { llvm::sys::DontRemoveFileOnSignal(tmpPath); });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmpPath, ec);
    if (ec)
      return makeError("cannot write " + tmpPath + ": " + ec.message());
    SectionWriter w(os);
    artifact::Header header{};
    w.write(&header, sizeof(header)); // Rewritten once the metadata is known.
    w.padTo(tokenizerOffset);
    w.write(c.tokenizer.data(), c.tokenizer.size());
    w.padTo(kernelsOffset);
    w.write(c.kernelLibrary.data(), c.kernelLibrary.size());
    w.padTo(ptxOffset);
    w.write(c.kernelPtx.data(), c.kernelPtx.size());
    uint64_t written = 0;
    std::vector<uint8_t> scratch(kWeightChunkBytes);
    for (auto [i, p] : llvm::enumerate(planned)) {
      w.padTo(p.offset);
      artifact::StreamingChecksum sum;
      llvm::Error err = c.weights->stream(
          p.spec->name, p.spec->dtype, scratch, [&](llvm::ArrayRef<uint8_t> piece) {
            w.write(piece.data(), piece.size());
            sum.update(piece.data(), piece.size());
            written += piece.size();
            if (progress)
              progress(written, totalWeightBytes);
            return llvm::Error::success();
          });
      if (!err && w.tell() != p.offset + p.size)
        err = makeError("internal error: weight '" + p.spec->name + "' streamed " +
                        llvm::Twine(w.tell() - p.offset) + " bytes, expected " +
                        llvm::Twine(p.size));
      if (err) {
        os.close();
        llvm::sys::fs::remove(tmpPath);
        return std::move(err);
      }
      meta.weights[i].checksum = sum.digest();
    }
    std::string metadata = runtime::serializeArtifactMetadata(meta);
    w.padTo(metadataOffset);
    w.write(metadata.data(), metadata.size());
    std::memcpy(header.magic, artifact::kMagic, sizeof(header.magic));
    header.formatVersion = artifact::kFormatVersion;
    header.headerSize = sizeof(artifact::Header);
    header.metadataOffset = metadataOffset;
    header.metadataSize = metadata.size();
    header.metadataChecksum = artifact::checksum(metadata.data(), metadata.size());
    header.fileSize = metadataOffset + metadata.size();
    header.headerChecksum = artifact::headerChecksum(header);
    os.seek(0);
    os.write(reinterpret_cast<const char *>(&header), sizeof(header));
    os.close();
    if (os.has_error()) {
      llvm::sys::fs::remove(tmpPath);
      return makeError("writing " + tmpPath + " failed: " + os.error().message());
    }
  }
  if (auto ec = llvm::sys::fs::rename(tmpPath, path)) {
    llvm::sys::fs::remove(tmpPath);
    return makeError("cannot rename " + tmpPath + " to " + path + ": " + ec.message());
  }
  return totalWeightBytes;
}

} // namespace llamac
