//===- GraphBuilder.h - the Llama forward pass in the llama dialect -*- C++ -*-===//
//
// Builds the module the importer hands to the pipeline: one function per
// entry point (prefill, decode, verify), each the whole forward pass for a fixed
// number of tokens, with the layer body written once inside an scf.for.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_GRAPH_GRAPHBUILDER_H
#define LLAMAC_COMPILER_GRAPH_GRAPHBUILDER_H

#include "dialects/llama/LlamaAttrs.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>
#include <string>
#include <vector>

namespace llamac {

/// An entry point: its function name, the static number of tokens it runs,
/// and what the artifact says of it (docs/artifact-format.md).
struct EntryPointSpec {
  std::string name;
  int64_t tokens;
  /// GPU drivers capture it once as a graph and replay it (the decode step).
  bool captureAsGraph = false;
  /// Every row's logits equal the one-token step's for that token, bit for
  /// bit (speculative decoding's verify; `llama.rows_match_step`).
  bool rowsMatchStep = false;
  /// Returns only the last token's logits (`logits_rows: "last"`): the
  /// final norm and the classifier run on that row alone (`llama.last_row`).
  bool lastRowLogits = false;
};

/// What the graph needs beyond the model's hyper-parameters.
struct GraphOptions {
  /// Element type of every weight (f32, bf16 or f16); activations are f32.
  mlir::Type weightType;
  /// The classifier reads the token embedding table (`tok_embeddings`), as
  /// the checkpoint says; otherwise it has its own `output` matrix.
  bool tiedEmbeddings = false;
  /// Element type of the KV cache (f32, bf16 or f16); null = f32.
  mlir::Type cacheType;
  /// Positions in the KV cache: the compiled max_seq_len, or fewer for a
  /// ring (`kvCachePositions`): then the cache ops are marked `ring` and
  /// position t lives in slot t mod cachePositions. The runtime allocates
  /// as many or fewer.
  int64_t cachePositions = 0;
  std::vector<EntryPointSpec> entryPoints;
};

/// The KV cache's positions for a model compiled for `maxSeqLen` positions
/// whose longest entry point takes `longestCall` tokens: the whole
/// context, or with a sliding window, a ring of `window + longestCall - 1`
/// positions (what one call's rows see and write), rounded up to whole
/// 64-key blocks of the CPU's attention kernel, where that is shorter.
int64_t kvCachePositions(int64_t maxSeqLen, std::optional<int64_t> slidingWindow,
                         int64_t longestCall);

/// Builds the model module. Function signature of each entry point:
/// `(tokens: tensor<Nxi32>, pos: index, k_cache, v_cache) ->
///  (logits: tensor<NxVxf32>, k_cache, v_cache)`, or logits of one row,
/// `tensor<1xVxf32>`, for an entry point of the last row's logits.
mlir::OwningOpRef<mlir::ModuleOp> buildModelModule(mlir::MLIRContext *context,
                                                   mlir::llama::ConfigAttr config,
                                                   const GraphOptions &options);

/// Names of the canonical weights (stacked over layers where `perLayer`).
struct WeightName {
  const char *name;
  bool perLayer;
};
llvm::ArrayRef<WeightName> getCanonicalWeightNames();

} // namespace llamac

#endif // LLAMAC_COMPILER_GRAPH_GRAPHBUILDER_H
