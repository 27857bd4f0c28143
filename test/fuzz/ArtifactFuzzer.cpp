//===- ArtifactFuzzer.cpp - fuzz the artifact reader's header and metadata ===//
//
// Input: 64 bytes XORed onto the header, then the metadata JSON. Both go on
// top of a valid artifact (LLAMAC_FUZZ_ARTIFACT, the bundled stories260K
// compiled by scripts/fuzz.sh): its sections up to the metadata are kept,
// the fuzzed metadata replaces the original at the end of the file, and the
// header gets the matching metadata size, metadata checksum and file size
// before the XOR. The header's own checksum is recomputed after the XOR
// unless the mask touches it, so a mask reaches every header field's check
// (a zero mask leaves a well-formed file whose metadata the fuzzer
// controls) and a mask over the checksum bytes tests that a corrupt header
// is refused. The metadata's checksums of the tokenizer and kernels are the
// base's, so fuzzed metadata that keeps them reaches every metadata check.
// An artifact the reader accepts must have every section and weight inside
// the file.
//
//===----------------------------------------------------------------------===//

#include "runtime/artifact/Artifact.h"
#include "runtime/artifact/ArtifactFormat.h"
#include "runtime/artifact/Checksum.h"
#include "test/fuzz/FuzzInput.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

using namespace llamac;

namespace {

constexpr size_t kHeaderBytes = sizeof(artifact::Header);
constexpr size_t kChecksumOffset = offsetof(artifact::Header, headerChecksum);

/// The valid artifact's bytes before its metadata, and its metadata.
struct BaseArtifact {
  std::string sections;
  std::string metadata;
};

const BaseArtifact &base() {
  static BaseArtifact result = [] {
    std::string bytes =
        fuzz::readFileOrDie(fuzz::requiredEnv("LLAMAC_FUZZ_ARTIFACT"));
    fuzz::require(bytes.size() >= kHeaderBytes,
                  "the base artifact is too short");
    artifact::Header header;
    std::memcpy(&header, bytes.data(), kHeaderBytes);
    fuzz::require(header.metadataOffset + header.metadataSize == bytes.size(),
                  "the base artifact's metadata is not at its end");
    BaseArtifact base;
    base.sections = bytes.substr(0, header.metadataOffset);
    base.metadata = bytes.substr(header.metadataOffset);
    return base;
  }();
  return result;
}

fuzz::InMemoryFile &artifactFile() {
  static fuzz::InMemoryFile file("fuzz.llamac");
  return file;
}

/// Makes artifactFile() the artifact that `mask` and `metadata` describe
/// (see the file comment) and returns its path. The sections before the
/// metadata never change, so they are written once: rewriting a megabyte
/// per input would make this target fifty times slower.
const std::string &writeArtifact(std::string_view mask,
                                 std::string_view metadata) {
  static bool sectionsWritten = false;
  const std::string &sections = base().sections;
  fuzz::InMemoryFile &file = artifactFile();
  if (!sectionsWritten) {
    file.write(sections);
    sectionsWritten = true;
  }
  file.resize(sections.size());
  file.writeAt(sections.size(), metadata);

  artifact::Header header;
  std::memcpy(&header, sections.data(), kHeaderBytes);
  header.metadataOffset = sections.size();
  header.metadataSize = metadata.size();
  header.metadataChecksum = artifact::checksum(metadata.data(), metadata.size());
  header.fileSize = sections.size() + metadata.size();
  char bytes[kHeaderBytes];
  std::memcpy(bytes, &header, kHeaderBytes);
  bool maskTouchesChecksum = false;
  for (size_t i = 0; i < mask.size() && i < kHeaderBytes; ++i) {
    bytes[i] ^= mask[i];
    maskTouchesChecksum |= mask[i] != 0 && i >= kChecksumOffset &&
                           i < kChecksumOffset + sizeof(uint64_t);
  }
  if (!maskTouchesChecksum) {
    std::memcpy(&header, bytes, kHeaderBytes);
    header.headerChecksum = artifact::headerChecksum(header);
    std::memcpy(bytes, &header, kHeaderBytes);
  }
  file.writeAt(0, std::string_view(bytes, kHeaderBytes));
  return file.path();
}

} // namespace

/// Checks that the harness builds a loadable artifact from the unchanged
/// metadata: otherwise every input would fail early and prove nothing.
/// `--write-seed=PATH` writes that input (the corpus's seed) and exits.
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  std::string seed = std::string(kHeaderBytes, '\0') + base().metadata;
  for (int i = 1; i < *argc; ++i) {
    const char *flag = "--write-seed=";
    if (std::strncmp((*argv)[i], flag, std::strlen(flag)) != 0)
      continue;
    FILE *out = std::fopen((*argv)[i] + std::strlen(flag), "wb");
    fuzz::require(
        out && std::fwrite(seed.data(), 1, seed.size(), out) == seed.size() &&
            std::fclose(out) == 0,
        "cannot write the seed");
    std::exit(0);
  }
  auto opened = runtime::Artifact::open(writeArtifact("", base().metadata));
  if (!opened.ok())
    std::fprintf(stderr, "%s\n",
                 std::string(opened.status().message()).c_str());
  fuzz::require(opened.ok(), "the unchanged base artifact does not load");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  std::string_view mask = input.substr(0, kHeaderBytes);
  std::string_view metadata =
      size > kHeaderBytes ? input.substr(kHeaderBytes) : std::string_view();
  auto opened = runtime::Artifact::open(writeArtifact(mask, metadata));
  if (!opened.ok()) {
    fuzz::require(!opened.status().message().empty(),
                  "an error without a message");
    return 0;
  }
  const runtime::Artifact &a = **opened;
  for (const runtime::SectionInfo *s :
       {&a.metadata().tokenizer, &a.metadata().kernels,
        a.metadata().kernelsPtx ? &*a.metadata().kernelsPtx : nullptr})
    if (s)
      fuzz::require(s->offset <= a.fileSize() &&
                        s->size <= a.fileSize() - s->offset,
                    "an accepted section lies outside the file");
  for (const runtime::WeightInfo &w : a.weights()) {
    fuzz::require(w.offset <= a.fileSize() && w.size <= a.fileSize() - w.offset,
                  "an accepted weight lies outside the file");
    std::optional<uint64_t> elements = 1;
    for (int64_t dim : w.shape)
      if (elements && (dim < 0 || __builtin_mul_overflow(
                                      *elements, uint64_t(dim), &*elements)))
        elements = std::nullopt;
    fuzz::require(elements.has_value(),
                  "an accepted weight's shape overflows or is negative");
    fuzz::require(runtime::tensorBytes(w.dtype, *elements) == w.size,
                  "an accepted weight's size disagrees with its shape");
  }
  return 0;
}
