//===- KernelChecks.cpp - dispatches against the kernels' signatures ------===//

#include "runtime/artifact/KernelChecks.h"
#include "runtime/artifact/KernelSignature.h"

#include "absl/strings/str_cat.h"

#include <map>

namespace llamac::runtime {
namespace {

absl::Status fail(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("metadata: ", where, " ", problem));
}

/// The argument `binding` supplies: what it points at and how many bytes.
KernelArg argOf(const Binding &b, const EntryPoint &ep,
                const ArtifactMetadata &meta) {
  KernelArg arg;
  switch (b.kind) {
  case Binding::Kind::Buffer:
    arg.bytes = ep.findBuffer(b.bufferId)->bytes;
    break;
  case Binding::Kind::Weight: {
    const WeightInfo &w = meta.weights[b.weightIndex];
    arg.bytes = b.perLayer ? w.layerStride() : w.size;
    break;
  }
  case Binding::Kind::Tokens:
    arg.bytes = static_cast<uint64_t>(ep.tokens) * 4;
    break;
  case Binding::Kind::KCache:
  case Binding::Kind::VCache: {
    const KVCacheInfo &kv = meta.kvCache;
    arg.kind = KernelArg::Kind::Cache;
    arg.bytes = static_cast<uint64_t>(kv.kvHeads * kv.headDim) *
                dtypeSize(kv.dtype);
    break;
  }
  }
  return arg;
}

/// The packed arguments a dispatch passes, in order.
KernelSignature argsOf(const Dispatch &d, const EntryPoint &ep,
                       const ArtifactMetadata &meta) {
  KernelSignature args;
  for (const Binding &b : d.bindings)
    args.push_back(argOf(b, ep, meta));
  for (Scalar s : d.scalars) {
    KernelArg arg;
    arg.kind = KernelArg::Kind::Scalar;
    arg.scalar = s;
    args.push_back(arg);
  }
  if (d.range) {
    KernelArg arg;
    arg.kind = KernelArg::Kind::Range;
    args.push_back(arg);
  }
  return args;
}

std::string describe(const KernelArg &arg) {
  return formatKernelSignature({arg});
}

absl::Status checkDispatch(const Dispatch &d, const std::string &where,
                           const KernelSignature &kernel,
                           const std::string &kernelText, const EntryPoint &ep,
                           const ArtifactMetadata &meta) {
  KernelSignature passed = argsOf(d, ep, meta);
  std::string name = absl::StrCat("kernel '", d.kernel, "' (", kernelText, ")");
  if (passed.size() != kernel.size())
    return fail(where, absl::StrCat("passes ", passed.size(),
                                    " arguments but ", name, " takes ",
                                    kernel.size()));
  for (size_t i = 0; i < passed.size(); ++i) {
    if (passed[i] == kernel[i])
      continue;
    std::string what =
        i < d.bindings.size()
            ? absl::StrCat("bindings[", i, "]")
            : absl::StrCat("argument ", i);
    return fail(where, absl::StrCat(what, " is ", describe(passed[i]),
                                    " but ", name, " takes ",
                                    describe(kernel[i]), " there"));
  }
  return absl::OkStatus();
}

} // namespace

SignatureLookup withMetadataSignatures(const ArtifactMetadata &meta,
                                       SignatureLookup fromCode) {
  return [&meta, fromCode = std::move(fromCode)](
             std::string_view kernel) -> std::optional<std::string> {
    if (std::optional<std::string> inCode = fromCode(kernel))
      return inCode;
    if (meta.kernelSignatures.empty())
      return std::nullopt;
    auto it = meta.kernelSignatures.find(std::string(kernel));
    return it == meta.kernelSignatures.end() ? std::string() : it->second;
  };
}

absl::Status checkKernelSignatures(const ArtifactMetadata &meta,
                                   const SignatureLookup &lookup) {
  std::map<std::string, std::optional<KernelSignature>> parsed;
  for (const auto &[epName, ep] : meta.entryPoints) {
    const std::pair<const char *, const std::vector<Dispatch> *> sections[] = {
        {"prologue", &ep.schedule.prologue},
        {"layer_body", &ep.schedule.layerBody},
        {"epilogue", &ep.schedule.epilogue}};
    for (const auto &[section, dispatches] : sections)
      for (size_t i = 0; i < dispatches->size(); ++i) {
        const Dispatch &d = (*dispatches)[i];
        if (d.collective)
          continue; // Communication, no kernel: checkMetadata checked it.
        std::optional<std::string> text = lookup(d.kernel);
        if (!text)
          return absl::OkStatus(); // The code records no signatures.
        std::string where = absl::StrCat("entry_points.", epName,
                                         ".schedule.", section, "[", i, "]");
        if (text->empty())
          return fail(where, absl::StrCat("calls kernel '", d.kernel,
                                          "', which the kernel library has "
                                          "no signature for"));
        std::optional<KernelSignature> kernel = parseKernelSignature(*text);
        if (!kernel)
          return fail(where, absl::StrCat("calls kernel '", d.kernel,
                                          "', whose signature '", *text,
                                          "' is malformed"));
        absl::Status s = checkDispatch(d, where, *kernel, *text, ep, meta);
        if (!s.ok())
          return s;
      }
  }
  return absl::OkStatus();
}

} // namespace llamac::runtime
