//===- ArtifactFormat.h - the artifact's binary header ----------*- C++ -*-===//
//
// Shared by the compiler's writer and the runtime's reader; see
// docs/artifact-format.md. Plain C++ only: the runtime links neither LLVM nor
// MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_RUNTIME_ARTIFACT_ARTIFACTFORMAT_H
#define LLAMAC_RUNTIME_ARTIFACT_ARTIFACTFORMAT_H

#include <cstdint>

namespace llamac::artifact {

inline constexpr char kMagic[8] = {'L', 'L', 'A', 'M', 'A', 'C', 'A', 'F'};
/// Version 3: checksums of the header, every section and every weight;
/// kernel signatures in the kernel library.
inline constexpr uint32_t kFormatVersion = 3;
/// Every section starts at a multiple of this (page size, and more than any
/// vector load needs).
inline constexpr uint64_t kSectionAlignment = 4096;

/// The fixed header at offset 0, little-endian.
struct Header {
  char magic[8];
  uint32_t formatVersion;
  uint32_t headerSize;
  uint64_t metadataOffset;
  uint64_t metadataSize;
  uint64_t metadataChecksum; ///< XXH3-64 of the metadata bytes.
  uint64_t fileSize;
  /// XXH3-64 of these 64 bytes with this field zero (Checksum.h).
  uint64_t headerChecksum;
  /// Zero; a reader refuses anything else.
  uint8_t reserved[8];
};
static_assert(sizeof(Header) == 64, "the header is 64 bytes on disk");

/// Suffix of the packed entry point the kernel library exports per kernel.
inline constexpr const char *kPackedSuffix = "_packed";
/// Suffix of the string a CPU kernel library exports per kernel: the
/// arguments the kernel takes (KernelSignature.h).
inline constexpr const char *kSignatureSuffix = "_signature";
/// A symbol every kernel library llamac compiles exports: it records a
/// signature for each of its kernels. Hand-written libraries (the runtime's
/// test fixtures) without it are not checked.
inline constexpr const char *kSignaturesMarker = "llamac_kernel_signatures";
/// `<kernel>_amx` is the kernel's AMX variant (target.amx "variants"), called
/// instead of `<kernel>` where the CPU has AMX and the OS grants it.
inline constexpr const char *kAmxVariantSuffix = "_amx";

} // namespace llamac::artifact

#endif // LLAMAC_RUNTIME_ARTIFACT_ARTIFACTFORMAT_H
