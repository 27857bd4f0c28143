//===- SentencePieceModel.cpp - the sentencepiece library, isolated -------===//
//
// Must not include any Abseil header (see SentencePieceModel.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/SentencePieceModel.h"

#include <sentencepiece_processor.h>

namespace llamac {

struct SentencePieceModel::Impl {
  sentencepiece::SentencePieceProcessor processor;
};

SentencePieceModel::SentencePieceModel(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}

SentencePieceModel::~SentencePieceModel() = default;

std::unique_ptr<SentencePieceModel>
SentencePieceModel::fromSerialized(std::string_view bytes, std::string &error) {
  auto impl = std::make_unique<Impl>();
  sentencepiece::util::Status status =
      impl->processor.LoadFromSerializedProto(bytes);
  if (!status.ok()) {
    error = status.ToString();
    return nullptr;
  }
  return std::unique_ptr<SentencePieceModel>(
      new SentencePieceModel(std::move(impl)));
}

bool SentencePieceModel::encode(std::string_view text,
                                std::vector<int> &ids) const {
  return impl->processor.Encode(text, &ids).ok();
}

int SentencePieceModel::pieceCount() const {
  return impl->processor.GetPieceSize();
}
const std::string &SentencePieceModel::piece(int id) const {
  return impl->processor.IdToPiece(id);
}
bool SentencePieceModel::isControl(int id) const {
  return impl->processor.IsControl(id);
}
bool SentencePieceModel::isUnknown(int id) const {
  return impl->processor.IsUnknown(id);
}
bool SentencePieceModel::isByte(int id) const {
  return impl->processor.IsByte(id);
}
int SentencePieceModel::bosId() const { return impl->processor.bos_id(); }
int SentencePieceModel::eosId() const { return impl->processor.eos_id(); }

} // namespace llamac
