//===- Calibration.cpp - projection inputs for GPTQ, from the kernels -----===//

#include "compiler/quantize/Calibration.h"

#include "runtime/api/Model.h"
#include "runtime/api/Session.h"
#include "runtime/eval/Perplexity.h"

#include <Eigen/Core>

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

const std::vector<double> *InputHessians::find(llvm::StringRef weight, int64_t layer) const {
  auto it = byWeight.find({weight.str(), layer});
  return it == byWeight.end() ? nullptr : it->second.get();
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
  eval::Windows windows = eval::tokenizeWindows((*model)->tokenizer(), options.text, split, ctx);
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
  auto observer = [&](const runtime::EntryPoint &entry, const runtime::Dispatch &d,
                      const hal::BoundDispatch &bound, int64_t layer,
                      const hal::Invocation &invocation) {
    // A projection's kernel takes its input first, then its weights.
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
    // the projection reads collapsed.
    const runtime::BufferInfo *input = entry.findBuffer(d.bindings[0].bufferId);
    if (!input || input->dtype != runtime::DType::F32 || input->shape.size() < 2 ||
        input->shape[0] < invocation.rows) {
      failure = "the input of kernel " + d.kernel + " is not an f32 buffer of its rows";
      return;
    }
    int64_t k = 1;
    for (size_t i = 1; i < input->shape.size(); ++i)
      k *= input->shape[i];
    std::shared_ptr<std::vector<double>> &h =
        hessians.byWeight[{projected[0]->weightName, projected[0]->perLayer ? layer : -1}];
    if (!h)
      h = std::make_shared<std::vector<double>>(static_cast<size_t>(k * k));
    if (static_cast<int64_t>(h->size()) != k * k) {
      failure = "kernel " + d.kernel + " multiplies " + projected[0]->weightName +
                " by inputs of another width than before";
      return;
    }
    for (const runtime::Binding *other : projected)
      hessians.byWeight[{other->weightName, other->perLayer ? layer : -1}] = h;
    RowMajorD x = Eigen::Map<const RowMajorF>(static_cast<const float *>(bound.args[0].base),
                                              invocation.rows, k)
                      .cast<double>();
    Eigen::Map<RowMajorD>(h->data(), k, k).noalias() += x.transpose() * x;
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
  std::set<std::vector<double> *> scaled;
  for (auto &[key, h] : hessians.byWeight)
    if (scaled.insert(h.get()).second)
      for (double &v : *h)
        v *= 2.0 / static_cast<double>(done);
  hessians.rows = done;
  return hessians;
}

} // namespace llamac
