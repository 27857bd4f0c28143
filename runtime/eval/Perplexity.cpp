//===- Perplexity.cpp - perplexity of a text under a model ----------------===//

#include "runtime/eval/Perplexity.h"
#include "runtime/api/GenerationOutput.h"
#include "runtime/api/Session.h"
#include "runtime/artifact/ArtifactMetadata.h"
#include "runtime/tokenizer/Tokenizer.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace llamac::eval {

namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

/// `text` without leading and trailing ASCII whitespace.
std::string_view strip(std::string_view text) {
  while (!text.empty() && isSpace(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back()))
    text.remove_suffix(1);
  return text;
}

} // namespace

std::vector<std::string_view> splitDocuments(std::string_view text,
                                             std::string_view separator) {
  std::vector<std::string_view> documents;
  auto keep = [&](std::string_view piece) {
    piece = strip(piece);
    if (!piece.empty())
      documents.push_back(piece);
  };
  size_t pieceStart = 0;
  for (size_t lineStart = 0; lineStart < text.size();) {
    size_t newline = text.find('\n', lineStart);
    size_t lineEnd = newline == std::string_view::npos ? text.size() : newline;
    std::string_view line = text.substr(lineStart, lineEnd - lineStart);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    size_t next = newline == std::string_view::npos ? text.size() : newline + 1;
    if (line == separator) {
      keep(text.substr(pieceStart, lineStart - pieceStart));
      pieceStart = next;
    }
    lineStart = next;
  }
  keep(text.substr(std::min(pieceStart, text.size())));
  return documents;
}

double tokenNll(absl::Span<const float> logits, int64_t target) {
  double maxLogit = -INFINITY;
  for (float v : logits)
    maxLogit = std::max(maxLogit, static_cast<double>(v));
  double sum = 0;
  for (float v : logits)
    sum += std::exp(static_cast<double>(v) - maxLogit);
  return maxLogit + std::log(sum) - static_cast<double>(logits[target]);
}

absl::StatusOr<Windows> tokenizeWindows(const Model &model, std::string_view text,
                                        const EvalOptions &options, int64_t ctx) {
  const Tokenizer &tokenizer = model.tokenizer();
  // Every window needs a first token that predicts nothing: without the
  // tokenizer's BOS (encode adds none), the model's (config.json's
  // bos_token_id), as lm-evaluation-harness prefixes such models.
  const int32_t bos = static_cast<int32_t>(tokenizer.bosId() >= 0 ? tokenizer.bosId()
                                                                   : model.info().bos);
  Windows windows;
  const size_t limit =
      options.maxDocs > 0 ? static_cast<size_t>(options.maxDocs) : SIZE_MAX;
  if (options.separator) {
    for (std::string_view doc : splitDocuments(text, *options.separator)) {
      if (windows.ids.size() == limit)
        break;
      absl::StatusOr<std::vector<int>> text = tokenizer.encode(doc, /*addBos=*/false);
      if (!text.ok())
        return text.status();
      std::vector<int32_t> ids = {bos};
      ids.insert(ids.end(), text->begin(), text->end());
      if (static_cast<int64_t>(ids.size()) > ctx) {
        ids.resize(static_cast<size_t>(ctx));
        ++windows.truncated;
      }
      windows.ids.push_back(std::move(ids));
    }
    return windows;
  }
  // One stream: BOS, then ctx - 1 tokens of text per window, so every text
  // token is predicted exactly once.
  absl::StatusOr<std::vector<int>> encoded = tokenizer.encode(strip(text), /*addBos=*/false);
  if (!encoded.ok())
    return encoded.status();
  const std::vector<int> &stream = *encoded;
  const size_t perWindow = static_cast<size_t>(ctx - 1);
  for (size_t begin = 0; begin < stream.size() && windows.ids.size() < limit;
       begin += perWindow) {
    size_t end = std::min(stream.size(), begin + perWindow);
    std::vector<int32_t> window{bos};
    window.insert(window.end(), stream.begin() + begin, stream.begin() + end);
    windows.ids.push_back(std::move(window));
  }
  return windows;
}

absl::StatusOr<EvalResult> evaluatePerplexity(std::shared_ptr<const Model> model,
                                              std::string_view text,
                                              const EvalOptions &options) {
  auto start = std::chrono::steady_clock::now();
  if (!model)
    return absl::InvalidArgumentError("evaluatePerplexity needs a model");
  const int64_t compiled = model->info().maxSeqLen;
  const int64_t ctx = options.ctx == 0 ? model->maxSeqLen() : options.ctx;
  if (ctx < 2)
    return absl::InvalidArgumentError(absl::StrCat(
        "--ctx ", ctx, " is too short: a document needs BOS and at least one "
                       "token to predict (--ctx 2 or more)"));
  if (ctx > compiled)
    return absl::InvalidArgumentError(
        absl::StrCat("--ctx ", ctx, " is larger than the ", compiled,
                     " positions the artifact was compiled for"));
  if (options.maxDocs < 0 || options.tokensPerCall < 0)
    return absl::InvalidArgumentError(
        "--max-docs and the tokens per call must not be negative");
  if (options.separator && options.separator->empty())
    return absl::InvalidArgumentError("--separator must not be empty");

  absl::StatusOr<Windows> tokenized = tokenizeWindows(*model, text, options, ctx);
  if (!tokenized.ok())
    return tokenized.status();
  Windows &windows = *tokenized;
  int64_t toPredict = 0;
  for (const std::vector<int32_t> &ids : windows.ids)
    toPredict += static_cast<int64_t>(ids.size()) - 1;
  if (toPredict == 0)
    return absl::InvalidArgumentError(
        text.empty() ? "the text is empty: there is no token to predict"
                     : "the text holds no token to predict (only whitespace "
                       "or separators)");

  SessionOptions sessionOptions;
  sessionOptions.maxSeqLen = ctx;
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::create(model, sessionOptions);
  if (!session.ok())
    return session.status();

  const int64_t vocab = model->info().vocab;
  EvalResult result;
  result.ctx = ctx;
  result.truncatedDocuments = windows.truncated;
  double totalNll = 0;
  const int64_t total = static_cast<int64_t>(windows.ids.size());
  for (const std::vector<int32_t> &ids : windows.ids) {
    const int64_t n = static_cast<int64_t>(ids.size());
    if (n >= 2) {
      // A fresh sequence at position 0; the cache rows of the previous one
      // are overwritten before anything reads them.
      if (absl::Status s = (*session)->truncate(0); !s.ok())
        return s;
      // Only the positions whose next token is known are scored, so the
      // last token is never run.
      const int64_t run = n - 1;
      const int64_t step =
          options.tokensPerCall > 0 ? options.tokensPerCall : run;
      for (int64_t done = 0; done < run; done += step) {
        const int64_t count = std::min(step, run - done);
        absl::StatusOr<std::vector<float>> logits = (*session)->append(
            absl::MakeConstSpan(ids).subspan(static_cast<size_t>(done),
                                             static_cast<size_t>(count)),
            LogitsRows::All);
        if (!logits.ok())
          return logits.status();
        if (absl::Status s = checkFiniteLogits(*logits, vocab, done); !s.ok())
          return s;
        for (int64_t i = 0; i < count; ++i)
          totalNll += tokenNll(absl::MakeConstSpan(*logits).subspan(
                                   static_cast<size_t>(i * vocab),
                                   static_cast<size_t>(vocab)),
                               ids[static_cast<size_t>(done + i + 1)]);
      }
      result.predictedTokens += run;
    }
    ++result.documents;
    if (options.progress)
      options.progress(result.documents, total, result.predictedTokens,
                       totalNll / std::max<int64_t>(1, result.predictedTokens));
  }
  result.meanNll = totalNll / static_cast<double>(result.predictedTokens);
  result.perplexity = std::exp(result.meanNll);
  result.seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  result.tokensPerS = result.seconds > 0
                          ? static_cast<double>(result.predictedTokens) /
                                result.seconds
                          : 0;
  return result;
}

} // namespace llamac::eval
