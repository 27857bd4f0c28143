//===- ArtifactSchema.cpp - lookups over the metadata ---------------------===//

#include "runtime/artifact/ArtifactSchema.h"

#include <algorithm>
#include <set>

namespace llamac::runtime {

const BufferInfo *EntryPoint::findBuffer(int64_t id) const {
  for (const BufferInfo &b : buffers)
    if (b.id == id)
      return &b;
  return nullptr;
}

std::vector<std::string> ArtifactMetadata::requirementsOfFields() const {
  std::vector<std::string> keys;
  if (promptWithoutBos)
    keys.emplace_back(kKeysReadersMustKnow[0]); // tokenizer.prompt_without_bos
  return keys;
}

const EntryPoint *ArtifactMetadata::findEntryPoint(std::string_view name) const {
  auto it = entryPoints.find(std::string(name));
  return it == entryPoints.end() ? nullptr : &it->second;
}

const EntryPoint *ArtifactMetadata::stepEntryPoint() const {
  const EntryPoint *step = nullptr;
  for (const auto &[name, ep] : entryPoints)
    if (ep.tokens == 1 && (!step || (ep.captureAsGraph && !step->captureAsGraph)))
      step = &ep;
  return step;
}

const EntryPoint *ArtifactMetadata::chunkEntryPoint() const {
  const EntryPoint *chunk = nullptr;
  for (const auto &[name, ep] : entryPoints)
    if (ep.tokens > 1 && ep.allLogitRows && (!chunk || ep.tokens > chunk->tokens))
      chunk = &ep;
  return chunk;
}

const EntryPoint *ArtifactMetadata::lastRowChunkEntryPoint() const {
  const EntryPoint *chunk = nullptr;
  for (const auto &[name, ep] : entryPoints)
    if (ep.tokens > 1 && !ep.allLogitRows && (!chunk || ep.tokens > chunk->tokens))
      chunk = &ep;
  return chunk;
}

const EntryPoint *ArtifactMetadata::verifyEntryPoint(int64_t k) const {
  const EntryPoint *verify = nullptr;
  for (const auto &[name, ep] : entryPoints)
    if (ep.rowsMatchStep && ep.allLogitRows && ep.tokens >= k + 1 &&
        (!verify || ep.tokens < verify->tokens))
      verify = &ep;
  return verify;
}

int64_t ArtifactMetadata::maxSpeculateK() const {
  int64_t k = 0;
  for (const auto &[name, ep] : entryPoints)
    if (ep.rowsMatchStep && ep.allLogitRows)
      k = std::max(k, ep.tokens - 1);
  return k;
}

int64_t ArtifactMetadata::findWeight(std::string_view name) const {
  for (size_t i = 0; i < weights.size(); ++i)
    if (weights[i].name == name)
      return static_cast<int64_t>(i);
  return -1;
}

std::vector<std::string> ArtifactMetadata::kernelNames() const {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto &[_, ep] : entryPoints)
    for (const auto *list :
         {&ep.schedule.prologue, &ep.schedule.layerBody, &ep.schedule.epilogue})
      for (const Dispatch &d : *list)
        if (!d.collective && seen.insert(d.kernel).second)
          names.push_back(d.kernel);
  return names;
}

} // namespace llamac::runtime
