//===- main.cpp - the llamac session API, by example ----------------------===//
//
// Loads a compiled model, runs a prompt in a session, rolls the session back
// to a shared prefix and continues differently, and checks that the logits
// are those of a fresh session fed the prefix and the new continuation.
// Then generates a little text. Exits 1 on any error or mismatch.
//
//   session-example stories260K.llamac
//
//===----------------------------------------------------------------------===//

#include "runtime/api/Session.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

int fail(const std::string &what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  return 1;
}

/// The ids of `text` (after BOS if `bos`); exits with an error line where the
/// tokenizer cannot encode it.
std::vector<int32_t> encode(const llamac::Model &model, const std::string &text,
                            bool bos) {
  absl::StatusOr<std::vector<int>> ids = model.tokenizer().encode(text, bos);
  if (!ids.ok())
    std::exit(fail(std::string(ids.status().message())));
  return std::vector<int32_t>(ids->begin(), ids->end());
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2)
    return fail("usage: session-example <artifact.llamac>");

  // The model is immutable and shared; sessions hold the sequences.
  absl::StatusOr<std::shared_ptr<const llamac::Model>> model =
      llamac::Model::load(argv[1]);
  if (!model.ok())
    return fail(std::string(model.status().message()));
  absl::StatusOr<std::unique_ptr<llamac::Session>> session =
      llamac::Session::create(*model);
  if (!session.ok())
    return fail(std::string(session.status().message()));

  const std::vector<int32_t> prefix = encode(**model, "Once upon a time", true);
  const std::vector<int32_t> first =
      encode(**model, "there was a little girl", false);
  const std::vector<int32_t> second =
      encode(**model, "a big dog ran home", false);

  // The prompt: the prefix and a first continuation.
  std::vector<int32_t> prompt = prefix;
  prompt.insert(prompt.end(), first.begin(), first.end());
  if (auto logits = (*session)->append(prompt); !logits.ok())
    return fail(std::string(logits.status().message()));
  std::printf("appended %zu tokens, position %lld\n", prompt.size(),
              static_cast<long long>((*session)->position()));

  // Back to the prefix (free: only the position moves), then another
  // continuation, with the logits of every one of its tokens.
  if (absl::Status s =
          (*session)->truncate(static_cast<int64_t>(prefix.size()));
      !s.ok())
    return fail(std::string(s.message()));
  absl::StatusOr<std::vector<float>> rolledBack =
      (*session)->append(second, llamac::LogitsRows::All);
  if (!rolledBack.ok())
    return fail(std::string(rolledBack.status().message()));

  // A second session of the same model, fed the prefix and the second
  // continuation only.
  absl::StatusOr<std::unique_ptr<llamac::Session>> fresh =
      llamac::Session::create(*model);
  if (!fresh.ok())
    return fail(std::string(fresh.status().message()));
  if (auto logits = (*fresh)->append(prefix); !logits.ok())
    return fail(std::string(logits.status().message()));
  absl::StatusOr<std::vector<float>> expected =
      (*fresh)->append(second, llamac::LogitsRows::All);
  if (!expected.ok())
    return fail(std::string(expected.status().message()));

  if (rolledBack->size() != expected->size())
    return fail("the two sessions returned different numbers of logits");
  float worst = 0;
  for (size_t i = 0; i < expected->size(); ++i)
    worst = std::max(worst, std::fabs((*rolledBack)[i] - (*expected)[i]));
  std::printf("truncated and continued vs fresh session: %zu logits, largest "
              "difference %g\n",
              expected->size(), worst);
  if (!(worst <= 1e-6f))
    return fail("the truncated session's logits differ from a fresh one's");

  // generate() starts a new sequence in the session and streams its text.
  llamac::GenerateOptions options;
  options.maxNewTokens = 24;
  std::printf("Once upon a time");
  absl::StatusOr<llamac::GenerateResult> result = (*session)->generate(
      "Once upon a time", options, [](int, std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        return true;
      });
  std::printf("\n");
  if (!result.ok())
    return fail(std::string(result.status().message()));
  if (result->generatedTokens.empty())
    return fail("generate produced no tokens");
  return 0;
}
