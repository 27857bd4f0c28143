//===- SentencePieceModel.cpp - the sentencepiece library, isolated -------===//
//
// Must not include any Abseil header (see SentencePieceModel.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/SentencePieceModel.h"

#include "runtime/tokenizer/SentencePieceProto.h"

#include <sentencepiece_processor.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace llamac {

struct SentencePieceModel::Impl {
  sentencepiece::SentencePieceProcessor processor;
  /// The same model with its normalizer's add_dummy_prefix and
  /// remove_extra_whitespaces off, for encodeContinuation.
  sentencepiece::SentencePieceProcessor continuation;
  /// Per id: a user-defined piece (the processor cannot tell).
  std::vector<bool> userDefined;
  /// The first id llamac appended (pieceCount() when none).
  int firstAppended = 0;
};

namespace {

/// sentencepiece's load error for a user. Its checks report their source
/// location and expression first ("./src/sentencepiece_processor.cc(232)
/// [model_proto->ParseFromArray(...)] "), which says nothing to a user: that
/// prefix is dropped, and a failed protobuf parse, which has nothing after
/// it, is named. What is left (a bad piece) may quote the file's bytes,
/// which are escaped so the error stays one printable line.
std::string readableLoadError(std::string_view message) {
  if (message.find("ParseFromArray") != std::string_view::npos)
    return "the bytes do not parse as its ModelProto (protobuf)";
  if (size_t cc = message.find(".cc("); cc != std::string_view::npos) {
    size_t close = message.find(") ", cc);
    std::string_view rest =
        close == std::string_view::npos ? std::string_view() : message.substr(close + 2);
    if (!rest.empty() && rest.front() == '[') {
      size_t end = rest.find("] ");
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    }
    message = rest.empty() ? std::string_view("it fails one of sentencepiece's checks") : rest;
  }
  std::string out;
  for (unsigned char c : message)
    if (c >= 0x20 && c < 0x7f)
      out += static_cast<char>(c);
    else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
      out += escaped;
    }
  return out;
}

} // namespace

SentencePieceModel::SentencePieceModel(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}

SentencePieceModel::~SentencePieceModel() = default;

std::unique_ptr<SentencePieceModel>
SentencePieceModel::fromSerialized(std::string_view bytes, std::string &error) {
  auto impl = std::make_unique<Impl>();
  sentencepiece::util::Status status =
      impl->processor.LoadFromSerializedProto(bytes);
  if (!status.ok()) {
    error = readableLoadError(status.message());
    return nullptr;
  }
  // A continuation's edges are inside the running text: no dummy prefix,
  // and its leading and trailing spaces are kept (remove_extra_whitespaces
  // would strip them as a whole text's ends). sentencepiece's headers do not
  // expose the ModelProto's fields, so the normalizer is changed on the
  // wire: a protobuf parser merges a repeated embedded message into the
  // first, the last value of a scalar winning. Appended: ModelProto field 3
  // (normalizer_spec), 4 bytes, holding NormalizerSpec field 3
  // (add_dummy_prefix) = false and field 4 (remove_extra_whitespaces) = false.
  static constexpr char kContinuationNormalizer[] = {0x1a, 0x04, 0x18, 0x00, 0x20, 0x00};
  std::string continuationProto(bytes);
  continuationProto.append(kContinuationNormalizer, sizeof kContinuationNormalizer);
  status = impl->continuation.LoadFromSerializedProto(continuationProto);
  if (!status.ok()) {
    error = readableLoadError(status.message());
    return nullptr;
  }
  impl->userDefined.assign(impl->processor.GetPieceSize(), false);
  impl->firstAppended = impl->processor.GetPieceSize();
  sentencepiece_proto::ModelPieces wire = sentencepiece_proto::readPieces(bytes);
  if (wire.pieces.size() == impl->userDefined.size()) {
    for (size_t id = 0; id < wire.pieces.size(); ++id)
      impl->userDefined[id] = wire.pieces[id].type == sentencepiece_proto::PieceType::UserDefined;
    impl->firstAppended = static_cast<int>(wire.firstAppended);
  }
  return std::unique_ptr<SentencePieceModel>(
      new SentencePieceModel(std::move(impl)));
}

/// True if `status` is OK; otherwise false with its message in `error`.
static bool succeeded(const sentencepiece::util::Status &status, std::string &error) {
  if (!status.ok())
    error = status.ToString();
  return status.ok();
}

bool SentencePieceModel::encode(std::string_view text, std::vector<int> &ids,
                                std::string &error) const {
  return succeeded(impl->processor.Encode(text, &ids), error);
}

bool SentencePieceModel::encodeContinuation(std::string_view text, std::vector<int> &ids,
                                            std::string &error) const {
  return succeeded(impl->continuation.Encode(text, &ids), error);
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
bool SentencePieceModel::isUserDefined(int id) const {
  return id >= 0 && static_cast<size_t>(id) < impl->userDefined.size() && impl->userDefined[id];
}
bool SentencePieceModel::isAppended(int id) const {
  return id >= impl->firstAppended && id < pieceCount();
}
int SentencePieceModel::bosId() const { return impl->processor.bos_id(); }
int SentencePieceModel::eosId() const { return impl->processor.eos_id(); }

} // namespace llamac
