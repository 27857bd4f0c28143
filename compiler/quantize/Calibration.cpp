//===- Calibration.cpp - projection inputs for GPTQ, from the kernels -----===//

#include "compiler/quantize/Calibration.h"
#include "compiler/quantize/RoutedInputs.h"

#include "runtime/api/Model.h"
#include "runtime/api/Session.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/eval/Perplexity.h"

#include <Eigen/Core>

#include <algorithm>
#include <set>

namespace llamac {

namespace {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error fromStatus(const absl::Status &status, llvm::StringRef what) {
  return makeError("calibration: " + what + ": " + std::string(status.message()));
}

} // namespace

const InputHessian *InputHessians::find(llvm::StringRef weight, int64_t layer,
                                        int64_t expert) const {
  auto it = byWeight.find({weight.str(), layer, expert});
  return it == byWeight.end() ? nullptr : it->second.get();
}

bool InputHessians::unrouted(llvm::StringRef weight, int64_t layer, int64_t expert) const {
  auto it = expertWeights.find(weight.str());
  return it != expertWeights.end() && layer >= 0 && layer < it->second.first && expert >= 0 &&
         expert < it->second.second && !find(weight, layer, expert);
}

int64_t InputHessians::experts() const {
  int64_t most = 0;
  for (const auto &[name, shape] : expertWeights)
    most = std::max(most, shape.first * shape.second);
  return most;
}

int64_t InputHessians::unroutedExperts() const {
  // An expert without rows has none in any of its weights (they share the
  // routing): count the (layer, expert) pairs missing from any.
  std::set<std::pair<int64_t, int64_t>> missing;
  for (const auto &[name, shape] : expertWeights)
    for (int64_t l = 0; l < shape.first; ++l)
      for (int64_t e = 0; e < shape.second; ++e)
        if (!find(name, l, e))
          missing.insert({l, e});
  return static_cast<int64_t>(missing.size());
}

void InputHessians::finish() {
  std::set<InputHessian *> scaled;
  for (auto &[key, h] : byWeight)
    if (h->rows > 0 && scaled.insert(h.get()).second)
      for (double &v : h->h)
        v *= 2.0 / static_cast<double>(h->rows);
}

llvm::Expected<InputHessians> collectInputHessians(const std::string &artifactPath,
                                                   const std::set<std::string> &weights,
                                                   const CalibrationOptions &options) {
  ModelOptions modelOptions;
  modelOptions.threads = options.threads;
  absl::StatusOr<std::shared_ptr<const Model>> model = Model::load(artifactPath, modelOptions);
  if (!model.ok())
    return fromStatus(model.status(), "loading the instrumented model");
  absl::StatusOr<std::unique_ptr<Session>> session = Session::create(*model);
  if (!session.ok())
    return fromStatus(session.status(), "starting a session");

  // Split as `llama-run eval` splits a text (docs/eval.md).
  eval::EvalOptions split;
  split.separator = options.separator;
  const int64_t ctx = (*session)->maxSeqLen();
  absl::StatusOr<eval::Windows> tokenized =
      eval::tokenizeWindows(**model, options.text, split, ctx);
  if (!tokenized.ok())
    return fromStatus(tokenized.status(), "tokenizing the calibration text");
  eval::Windows &windows = *tokenized;
  int64_t total = 0;
  for (std::vector<int32_t> &ids : windows.ids) {
    if (options.maxTokens > 0 && total + static_cast<int64_t>(ids.size()) > options.maxTokens)
      ids.resize(static_cast<size_t>(options.maxTokens - total));
    total += static_cast<int64_t>(ids.size());
  }
  if (total == 0)
    return makeError("calibration: the text holds no tokens");

  InputHessians hessians;
  std::string failure;
  const runtime::ArtifactMetadata &metadata = (*model)->artifact().metadata();
  // A mixture's stacked experts, [layers, experts, rows, K]: one Hessian
  // per expert, of the rows routed to it.
  auto stackedExperts = [&](const runtime::Binding &b) -> const runtime::WeightInfo * {
    if (b.weightIndex < 0 || b.weightIndex >= static_cast<int64_t>(metadata.weights.size()))
      return nullptr;
    const runtime::WeightInfo &w = metadata.weights[b.weightIndex];
    return b.perLayer && w.shape.size() == 4 ? &w : nullptr;
  };
  auto observer = [&](const runtime::EntryPoint &entry, const runtime::Dispatch &d,
                      const hal::BoundDispatch &bound, int64_t layer,
                      const hal::Invocation &invocation) {
    // A projection's kernel takes its input first, then its weights (an
    // experts' kernel: its input, the router's logits, then its weights).
    if (!failure.empty() || d.bindings.empty() ||
        d.bindings[0].kind != runtime::Binding::Kind::Buffer)
      return;
    std::vector<const runtime::Binding *> projected;
    for (const runtime::Binding &b : d.bindings)
      if (b.kind == runtime::Binding::Kind::Weight && weights.count(b.weightName))
        projected.push_back(&b);
    if (projected.empty())
      return;
    // [rows, K], or [rows, heads, head_dim] for attention's output, which
    // the projection reads collapsed ([rows, k, hidden] for the picks of
    // an experts' kernel).
    const runtime::BufferInfo *input = entry.findBuffer(d.bindings[0].bufferId);
    if (!input || input->dtype != runtime::DType::F32 || input->shape.size() < 2 ||
        input->shape[0] < invocation.rows) {
      failure = "the input of kernel " + d.kernel + " is not an f32 buffer of its rows";
      return;
    }
    int64_t k = 1;
    for (size_t i = 1; i < input->shape.size(); ++i)
      k *= input->shape[i];
    const float *x = static_cast<const float *>(bound.args[0].base);

    if (const runtime::WeightInfo *experts = stackedExperts(*projected[0])) {
      const int64_t e = experts->shape[1], width = experts->shape[3];
      const int64_t perToken = metadata.model.expertsPerToken;
      const runtime::BufferInfo *logits =
          d.bindings.size() > 1 && d.bindings[1].kind == runtime::Binding::Kind::Buffer
              ? entry.findBuffer(d.bindings[1].bufferId)
              : nullptr;
      if (!logits || logits->dtype != runtime::DType::F32 || logits->shape.size() != 2 ||
          logits->shape[0] < invocation.rows || logits->shape[1] != e || perToken < 1 ||
          perToken > e || (k != width && k != perToken * width)) {
        failure = "kernel " + d.kernel + " of the experts does not read its rows and the "
                  "router's logits as calibration expects";
        return;
      }
      RoutedRows call;
      call.inputs = x;
      call.rows = invocation.rows;
      call.picksPerRow = k / width;
      call.width = width;
      call.logits = static_cast<const float *>(bound.args[1].base);
      call.experts = e;
      call.perToken = perToken;
      // The experts' weights that share this input share its Hessians.
      std::vector<std::shared_ptr<InputHessian>> byExpert(e);
      for (int64_t i = 0; i < e; ++i) {
        auto it = hessians.byWeight.find({projected[0]->weightName, layer, i});
        if (it != hessians.byWeight.end())
          byExpert[i] = it->second;
      }
      addRoutedRows(call, byExpert);
      for (const runtime::Binding *other : projected) {
        hessians.expertWeights[other->weightName] = {experts->shape[0], e};
        for (int64_t i = 0; i < e; ++i)
          if (byExpert[i])
            hessians.byWeight[{other->weightName, layer, i}] = byExpert[i];
      }
      return;
    }

    std::shared_ptr<InputHessian> &h =
        hessians.byWeight[{projected[0]->weightName, projected[0]->perLayer ? layer : -1, -1}];
    if (!h) {
      h = std::make_shared<InputHessian>();
      h->h.assign(static_cast<size_t>(k * k), 0.0);
    }
    if (static_cast<int64_t>(h->h.size()) != k * k) {
      failure = "kernel " + d.kernel + " multiplies " + projected[0]->weightName +
                " by inputs of another width than before";
      return;
    }
    for (const runtime::Binding *other : projected)
      hessians.byWeight[{other->weightName, other->perLayer ? layer : -1, -1}] = h;
    RowMajorD rows = Eigen::Map<const RowMajorF>(x, invocation.rows, k).cast<double>();
    Eigen::Map<RowMajorD>(h->h.data(), k, k).noalias() += rows.transpose() * rows;
    h->rows += invocation.rows;
  };
  if (absl::Status s = (*session)->observeDispatches(observer); !s.ok())
    return fromStatus(s, "observing the kernels");

  int64_t done = 0;
  for (const std::vector<int32_t> &ids : windows.ids) {
    if (ids.empty())
      break;
    if (absl::Status s = (*session)->truncate(0); !s.ok())
      return fromStatus(s, "starting a document");
    absl::StatusOr<std::vector<float>> logits = (*session)->append(ids, LogitsRows::Last);
    if (!logits.ok())
      return fromStatus(logits.status(), "running the instrumented model");
    if (!failure.empty())
      return makeError("calibration: " + failure);
    done += static_cast<int64_t>(ids.size());
    if (options.progress)
      options.progress(done, total);
  }
  (void)(*session)->observeDispatches(nullptr);

  // H = 2/N XᵀX, each shared Hessian scaled once.
  hessians.finish();
  hessians.rows = done;
  return hessians;
}

} // namespace llamac
