//===- Passes.td - llamac passes ---------------------------*- tablegen -*-===//
//
// Every llamac pass is declared here; compiler/Pipelines.cpp orders them.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_PASSES_TD
#define LLAMAC_PASSES_TD

include "mlir/Pass/PassBase.td"

def LlamaShardTensorParallel : Pass<"llama-shard-tensor-parallel", "::mlir::ModuleOp"> {
  let summary = "Split the layers' projections over tensor-parallel ranks (Megatron's plan)";
  let description = [{
    With `ranks` R > 1, rewrites the model so that each of R ranks runs
    the same IR on its own part of the weights (docs/tensor-parallel.md):
    - q, k, v, gate and up (every projection of a layer whose result is not
      a residual's addend, but a mixture's router) become column-parallel: their weights keep
      `1/R` of the output features, whole heads (`block = head_dim`) or
      hidden units (`block = 1`). When R exceeds the kv heads, each rank
      keeps the one kv head its query heads read (replicated over the
      ranks of a group), so the KV cache holds `max(kv_heads / R, 1)`
      heads per rank;
    - o and down (the projections a residual adds) become row-parallel:
      their weights keep `1/R` of the input features, and a
      `llama.all_reduce` sums the ranks' partial products before the
      residual is added;
    - a mixture of experts (`llama.moe`) keeps `1/R` of every expert's
      hidden units: the rows of its gate and up weights (`[E, hidden, dim]`,
      axis 1), the columns of its down weights (axis 2); its router stays
      whole, so every rank picks the same experts, and a `llama.all_reduce`
      sums the ranks' partial mixtures before the residual is added;
    - the classifier (the projection the logits come from) keeps `1/R` of
      the vocabulary's rows, and a `llama.all_gather` puts the ranks'
      logits side by side, so each rank reads `1/R` of the output head at
      every step instead of all of it. A tied classifier reads its rows of
      the embedding table under a name of its own
      (`@tok_embeddings.classifier {source = @tok_embeddings}`), since the
      lookup still reads the whole table. A vocabulary R does not divide
      keeps the classifier whole;
    - norms and the embedding stay replicated.
    The changed `llama.weight` ops carry `#llama.shard<axis, block>` and
    the module `llama.tensor_parallel = R`. It runs before the fusions: the
    residual is added once, after the all-reduce, not once per rank.
    R must divide the query heads and the hidden size, and either divide
    the kv heads or be a multiple of them.

    ```mlir
    %wo = llama.weight @"layers.wo"[%l] : tensor<64x64xf32>
    %o = llama.linear %att, %wo : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
    %h2 = llama.add %h, %o : tensor<1x64xf32>
    // becomes, with ranks=2:
    %wo = llama.weight @"layers.wo"[%l] {shard = #llama.shard<axis = 1, block = 8>}
        : tensor<64x32xf32>
    %o = llama.linear %att, %wo : tensor<1x32xf32>, tensor<64x32xf32> -> tensor<1x64xf32>
    %sum = llama.all_reduce %o : tensor<1x64xf32>
    %h2 = llama.add %h, %sum : tensor<1x64xf32>
    ```
  }];
  let options = [
    Option<"ranks", "ranks", "int64_t", "1",
           "tensor-parallel ranks (llamac: --tp); 1 leaves the module as it is">,
    Option<"splitClassifier", "split-classifier", "bool", "true",
           "split the classifier by vocabulary rows with an all-gather of the logits "
           "(llamac: --tp-classifier split); false keeps it whole on every rank">
  ];
}

def LlamaFuseResidualAdd : Pass<"llama-fuse-residual-add", "::mlir::func::FuncOp"> {
  let summary = "Fold residual adds into the epilogue of the linear layer they add";
  let description = [{
    Rewrites `llama.add %h, (llama.linear %x, %w)` into
    `llama.linear %x, %w plus %h` when the linear layer has no other use, so
    the projection's accumulators start from the residual stream: one kernel
    and one pass over the activations fewer per residual connection.
  }];
}

def LlamaFuseGatedLinear : Pass<"llama-fuse-gated-linear", "::mlir::func::FuncOp"> {
  let summary = "Fuse the MLP's gate and up projections and their SwiGLU into one op";
  let description = [{
    Rewrites `llama.swiglu (llama.linear %y, %w1), (llama.linear %y, %w3)`,
    where both projections read the same rows and have no other use, into
    `llama.gated_linear %y, %w1, %w3`.
  }];
}

def LlamaSplitMixtureOfExperts
    : Pass<"llama-split-mixture-of-experts", "::mlir::func::FuncOp"> {
  let summary = "Split each llama.moe into llama.moe_swiglu and llama.moe_down";
  let description = [{
    Rewrites `llama.moe` into its two halves: `llama.moe_swiglu`, each row's
    picked experts' weighted SwiGLU rows (`[rows, experts_per_token,
    hidden]`), and `llama.moe_down`, their down projections summed. The CPU
    partitioner splits each half over threads by its own output features
    (the hidden units, then `dim`), as it does a dense projection: one
    kernel for the whole mixture ran on one thread. The GPU targets have a
    kernel for each half and none for a whole mixture. The kernels pipeline
    runs it before the partitioner, for every target.
  }];
}

def LlamaFuseProjections : Pass<"llama-fuse-projections", "::mlir::func::FuncOp"> {
  let summary = "Group the projections of the same rows (q, k, v) into one op";
  let description = [{
    Replaces plain `llama.linear` ops that read the same input in one block
    (the q, k and v projections) by one `llama.linear_group`, placed at the
    last of them when every use of their results comes after it.
  }];
}

def LlamaFuseIntoConsumers : Pass<"llama-fuse-into-consumers", "::mlir::func::FuncOp"> {
  let summary = "Mark cheap producers to be computed inside their consumers' kernels";
  let description = [{
    Marks with `llama.recompute`:
    - a `llama.dequantize` whose every use is a projection's weight or a
      `llama.moe`'s experts: each projection (or experts') kernel
      dequantizes the weights it streams, so no dequantized copy of a
      weight ever exists in memory;
    - an RMSNorm whose every use is the input of a projection (an op of
      `ProjectionOpInterface`: `llama.linear`, `llama.linear_group`,
      `llama.gated_linear`): the norm is folded into each projection's
      kernel (recomputed per consumer; a row of `dim` values against a GEMV
      over `dim x out` weights);
    - a RoPE whose every use is a cache write or the query of an attention:
      the rotation is fused with the cache write and with attention.
    The CPU partitioner clones marked ops into each consumer's kernel instead
    of giving them a kernel and a buffer of their own, so a decode layer is
    six launches instead of eleven.

    `norms=false` leaves RMSNorms unmarked, so that each projection's input
    is an activation buffer: the instrumented model GPTQ's calibration reads
    (docs/quantization.md).
  }];
  let options = [
    Option<"norms", "norms", "bool", "true",
           "Mark RMSNorms that feed only projections to be recomputed by them">,
  ];
}

def LlamaQuantizeWeights : Pass<"llama-quantize-weights", "::mlir::func::FuncOp"> {
  let summary = "Store the weights of every projection quantized (int8, int4, GPTQ int4)";
  let description = [{
    Replaces each weight a projection multiplies by (every linear layer and
    the output head; not the embedding table, nor the RMSNorm weights), and
    the stacked experts a `llama.moe` reads (each expert's matrix on its
    own; not with `int4-gptq`), with the weight-store tensors of its
    quantized form and a `llama.dequantize` that reads them
    (docs/quantization.md):

    ```mlir
    %w = llama.weight @"layers.wq"[%l] : tensor<64x64xf32>
    // becomes, with scheme=int8:
    %q = llama.weight @"layers.wq.int8"[%l] : tensor<64x64xi8>
    %s = llama.weight @"layers.wq.int8_scales"[%l] : tensor<64xbf16>
    %w = llama.dequantize int8 %q scales %s from @"layers.wq"
        : tensor<64x64xi8>, tensor<64xbf16> -> tensor<64x64xf32>
    ```

    int4 adds `_zeros` and names the group size (`layers.wq.int4g32`,
    `layers.wq.gptq4g32`). Uses that are not projection weights keep the
    original tensor, so a classifier tied to the embedding table gets a
    quantized copy of its own while the lookup reads the table as before.
    The bytes are computed from `source` when the artifact is written
    (compiler/quantize/); the IR only describes them.

    A weight split over tensor-parallel ranks (`#llama.shard`, after
    `llama-shard-tensor-parallel`) is quantized whole and split the same
    way: its quantized tensors carry the shard. Split by its matrices'
    rows (column-parallel: a projection's axis 0, an experts' weight's
    axis 1): values, scales and zeros keep the weight's rows. Split along
    K (row-parallel: the last axis): values keep its columns of K; int8's
    per-row scales stay whole (no shard), int4's scales and zeros keep its
    groups, and a rank's K that is not a multiple of the group is an error
    (groups are never split).
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", "\"int8\"", "int8 | int4 | int4-gptq">,
    Option<"groupSize", "group-size", "int64_t", "128",
           "int4: weights per scale and zero along K (32, 64, 128 or 256)">
  ];
}

def LlamaLowerToLinalg : Pass<"llama-lower-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lower llama elementwise, normalization, projection and embedding ops to linalg";
  let description = [{
    Rewrites `llama.rms_norm`, `llama.linear`, `llama.embedding`, `llama.silu`,
    `llama.swiglu`, `llama.add` and `llama.mul` into `linalg.generic` ops on
    tensors. Reductions (RMSNorm's sum of squares, the linear layer's dot
    products) accumulate in f32 whatever the storage type; bf16/f16 operands
    are extended on load, so no separate conversion pass over weights exists.
    SiLU's exponential is expanded into the upstream polynomial approximation
    (vectorizable arithmetic instead of an `expf` call per element).
    `llama.moe` is split into `llama.moe_swiglu` and `llama.moe_down`, and
    each becomes a loop over the rows and their picked experts (or, for a
    prefill chunk, over the experts and the rows that picked each), each
    expert's projections `llama.linear` ops on its slice of the stacked
    weights, lowered as above.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def LlamaLowerAttention : Pass<"llama-lower-attention", "::mlir::func::FuncOp"> {
  let summary = "Lower RoPE, the KV-cache write and attention to linalg, tensor and scf";
  let description = [{
    `llama.rope` becomes two `linalg.generic`s: a `[rows, head_dim]` table
    of each angle's cosine and sine (frequencies from theta, with the
    optional Llama 3, linear or YaRN rescaling; YaRN's attention factor
    multiplies both), which every head shares, then each
    element's rotation, reading its pair partner with `tensor.extract`.
    `llama.kv_write` becomes a transpose and a `tensor.insert_slice` into the
    cache operand, which bufferizes in place. `llama.attention` becomes
    flash-style blocked causal attention: loops over kv heads, blocks of 4
    query rows (times the query heads that share the kv head) and blocks of
    64 cache positions up to the block's last causal position, with an
    online softmax in f32 (a running max and sum per score row, the
    accumulated output rescaled as the max grows). The scores of a block are
    register tiles of score rows x keys (one fused multiply-add per pair and
    chunk of head_dim) whose accumulators are summed together by shuffles,
    every score's lanes in the same order (an odd head_dim takes a
    linear-shaped generic instead); where a block has whole vectors of 16
    score rows (prefill, verify) those take the same sums with the rows in
    the lanes (packed queries, the key broadcast, the tiles' tree as vertical
    adds: the same bits) over key and value blocks widened to f32 once; each
    score row's position is computed once per block of rows (i32), so the
    masks divide nothing per score; the block max and the probabilities run
    16 rows a vector with the max and the row sums in registers (a block of
    one score row, a multi-head model's decode step, takes its keys 16 to a
    vector instead, still summing them in order); the
    probabilities are stored key-major, and the weighted sum of values keeps
    tiles of score rows' accumulators in vector registers across the block's
    keys; no score matrix
    larger than a block exists and the one block that crosses the diagonal
    is masked; with a sliding `window` the key blocks start at the block of
    64 that holds the first row's earliest visible key and the keys before
    each row's window are masked too. The scores' exponentials are expanded
    into the upstream polynomial approximation (vectorizable arithmetic
    instead of an `expf` call per lane). A decode step's key loop is tagged
    `llama.key_block_loop` for `llama-prefetch-key-blocks`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def LlamaMemrefCopyToLinalg : Pass<"llama-memref-copy-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Rewrite memref.copy as linalg.copy so kernels need no runtime library";
  let description = [{
    Bufferization emits `memref.copy` for copies between strided views, which
    the LLVM lowering turns into a call to MLIR's `memrefCopy` runtime
    function. The kernel library must depend on libc only, so copies become
    `linalg.copy` and lower to plain loops like every other kernel.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LlamaPrefetchKeyBlocks : Pass<"llama-prefetch-key-blocks", "::mlir::func::FuncOp"> {
  let summary = "Prefetch the next key block of a bufferized flash-attention loop into L2";
  let description = [{
    Runs on bufferized kernels. In each loop over key blocks that
    `llama-lower-attention` tagged (`llama.key_block_loop`: a decode step's),
    every 2-D view `[rows, head_dim]` of a cache defined outside the loop (the
    block's keys, its values) whose rows are 2 KiB or more apart gets, right
    before the first op of the body that reads it, the same view at the
    loop's next position (its operands' pure ops cloned
    with the induction variable advanced by the step), and when there is a
    next iteration, a loop over that view's rows with a `memref.prefetch`
    (read, locality 2: into L2) of each 64-byte line of a row. The cache's
    `[pos, kv_head, head_dim]` layout puts a kv head's consecutive rows a
    whole position apart (8 KiB for Llama-2-7B), which the hardware
    prefetchers do not follow; rows closer together (TinyLlama's 512 bytes)
    measured no gain. The tag is removed.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def LlamaAmxLinear : Pass<"llama-amx-linear", "::mlir::ModuleOp"> {
  let summary = "Prefill linear layers with bf16, int8 or int4 weights as AMX tile "
                "GEMMs (tdpbf16ps, tdpbssd)";
  let description = [{
    Rewrites the bufferized linear layers (`out[n, o] += x[n, k] * w[o, k]`)
    with bf16 weights of prefill kernels (a dynamic or >= 16 token count, not
    a `llama.rows_match_step` verify kernel, k >= 32) into `amx` dialect tile
    loops: the A tile is 16 weight rows x 32 k read straight from the
    row-major weights; the activations are rounded to bf16 (as with
    `vdpbf16ps`) and packed once per call into VNNI pairs, per block of 16
    tokens `[k/2][16 tokens][2]`, zero-padded to whole blocks of 32 tokens;
    blocks of 32 rows x 32 tokens keep 2 A, 2 B and 4 C tiles (8 tile
    registers); each C tile (16 rows x 16 tokens, f32) is stored to a
    scratch tile and added transposed into the destination (which holds the
    residual or zero). Rows past the last whole block of 32 and the k tail
    past the last multiple of 32 stay `linalg.generic`s on subviews, for
    `llama-vectorize-linear`.

    Linear layers over int8 weights (`llama.quant_kind` int8: i8 rows and a
    scale per row) become `tile_muli` (`tdpbssd`) loops of the same blocks:
    A is 16 weight rows x 64 bytes as stored; the activations are quantized
    per token (d = max|x| / 127, bytes round-to-even(x * (1 / d))) and
    packed in VNNI groups of 4 bytes `[k/4][16 tokens][4]`; each int32 C
    tile is added transposed times d_token x s_row. Every product runs on
    tiles (one activation rounding for the whole layer): the k tail and the
    rows past the last block are zero-padded copies.

    Linear layers over int4 weights (groups of 32 or a multiple of 64) take
    the same activations and blocks; each block of 32 weight rows is
    unpacked once into signed bytes `q - 8` (zero past k and past the last
    row) and read from there as A (16 x 64 bytes; 16 x 32 for groups of 32).
    After each group's k steps its int32 C tiles are added to f32
    accumulators as `s * C + z * sum(q of the token over the group)`, which
    are added transposed times d_token.

    With `variants`, each kernel with such a layer is cloned as `<name>_amx`
    and only the clone is rewritten (the runtime picks the clone where the
    CPU has AMX); without it the kernels are rewritten in place (the
    emulated artifacts of `llama-emulate-amx`).
  }];
  let options = [
    Option<"variants", "variants", "bool", "false",
           "rewrite `<kernel>_amx` clones instead of the kernels themselves">
  ];
  let dependentDialects = [
    "::mlir::amx::AMXDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def LlamaEmulateAmx : Pass<"llama-emulate-amx", "::mlir::func::FuncOp"> {
  let summary = "Test-only: AMX tile ops as plain vector code with the same semantics";
  let description = [{
    Replaces each `amx` tile by a 2-D vector of the same shape and each tile
    op by vector code that computes what the instruction does:
    `tile_zero` a zero vector, `tile_load`/`tile_store` one vector load or
    store per tile row (rows `stride` apart), `tile_mulf` (`tdpbf16ps`)
    C[m][n] += A[m][2p] * B[p][2n] + A[m][2p+1] * B[p][2n+1] for each pair p
    in order, each bf16 product exact in f32 and added with one rounding, as
    the instruction does; `tile_muli` (signed bytes, `tdpbssd`) C[m][n] +=
    sum_j A[m][4g+j] * B[g][4n+j] for each group g of 4 bytes, exact in
    int32 as the instruction is. So the tiling, VNNI packing, edges and epilogues of
    `llama-amx-linear` run, and are tested, on any CPU.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def LlamaExpandBf16Conversions : Pass<"llama-expand-bf16-conversions", "::mlir::func::FuncOp"> {
  let summary = "f32 <-> bf16 conversions as integer ops, for chips without bf16 instructions";
  let description = [{
    Rewrites `arith.truncf` to bf16 (round to nearest even, NaN kept quiet)
    and `arith.extf` from bf16 (a 16-bit shift) as integer code on scalars
    and vectors alike, and nothing else (MLIR's bf16 expansion patterns,
    without the rest of `arith-expand`). On an AVX2-only CPU LLVM would
    lower the rounding to calls of `__truncsfbf2`, which Debian 12's libgcc
    lacks; the CPU llvm phase runs this pass there (`soft-bf16`).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LlamaVectorizeLinear : Pass<"llama-vectorize-linear", "::mlir::func::FuncOp"> {
  let summary = "Lower bufferized linear layers to vector-level loops that stream the weights";
  let description = [{
    Matches the bufferized `linalg.generic` that `llama-lower-to-linalg`
    makes of `llama.linear` (`out[n, o] += x[n, k] * w[o, k]`) and rewrites it
    as explicit loops over blocks of `rows-per-block` weight rows: each row
    keeps a `vector<lanes x f32>` accumulator updated with `vector.fma` over
    contiguous `vector.load`s of the weights (narrow weights are extended in
    registers), and is reduced once at the end with a reassociating
    `vector.reduction`. Row blocks are the outer loop and tokens the inner
    one, so a block's weights are reused from cache across a prefill's
    tokens; with four or more tokens, blocks of four tokens share each loaded
    weight vector (one accumulator per row and token). Leftover rows and a `k` tail that is not a multiple of the lane
    count run in scalar loops. This is what lets batch-1 decode stream
    weights at memory speed; LLVM's own vectorizer does not reassociate the
    float reduction and would leave it scalar.

    With `bf16-dot`, linear layers with bf16 weights instead round the
    activations to bf16 once per call (`arith.truncf`, `vcvtneps2bf16`, into
    a `memref.alloc` buffer, freed at the end) and accumulate with
    `x86vector.avx512.dot` (`vdpbf16ps`: pairs of bf16 products added into
    f32 lanes, `2 x lanes` elements per step), so the weights need no
    widening and each row block reads half the activation bytes; the scalar
    `k` tail rounds its activations the same way. The kernels then need AVX-512 BF16, and the lowering
    `convert-vector-to-llvm{enable-x86vector}`. Other weight types are
    unaffected.

    Quantized weights (the generic `llama-lower-to-linalg` makes of a
    linear layer over a `llama.dequantize`, marked `llama.quant_kind`) take
    the same loops: int8 bytes are converted to f32 in registers and the
    row's scale multiplies the reduced sum; int4 runs a loop over the groups
    (each row's scale s and z - 8 s loaded once per group) around chunks of
    32 columns, whose 16 bytes are widened and split into low nibbles (a
    mask) and high nibbles (a shift), each dequantized by one fma. With
    `int-dot` (k a multiple of 64, int4 groups of 64 or more), the
    activations are instead quantized to bytes per block (int8: 64 to 256
    columns; int4: the group) once per call and each 64 weights meet them in
    one `vpdpbusd` (AVX-512 VNNI, through `llvm.call_intrinsic`), summed in
    int32 over the block and scaled once per block in f32 (passes/IntDot.h).
    Decode (fewer than 4 tokens) prefetches the next row block's weights
    into L2 as it goes, whatever their format (rows of a few KiB are too
    short for the hardware prefetchers).

    With `bf16-dot-fma` as well, the kernels keep vdpbf16ps's numerics but
    not the instruction: each loaded weight vector is split into its odd and
    even elements as f32 (a mask and a shift) and each pair takes two
    `vector.fma`, odd element first, as vdpbf16ps adds them. The kernels of
    one token and verify kernels (`llama.rows_match_step`) store the rounded
    activations once per call as f32, split per chunk into odd and even
    columns; prefill blocks (5 rows x 4 tokens) read the rounded bf16 copy
    and split each token's chunk in registers the same way.

    Prefill row blocks of float weights (f32, bf16, f16) holding more than
    `prefill-k-panel-bytes` of weights run k in panels of that many bytes
    of the block's weights, so that one panel stays in L1 across the token
    blocks: each token block runs a panel from the accumulators the last
    one left in a `[rows, tokens, lanes]` f32 buffer (`memref.alloc` per
    call), and a last pass reduces them. Each lane adds its products in the
    order of k either way, so the results are the same bits.
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16", "f32 lanes per vector">,
    Option<"rowsPerBlock", "rows-per-block", "int64_t", "4",
           "weight rows accumulated together (independent accumulators) for one token">,
    Option<"prefillRowsPerBlock", "prefill-rows-per-block", "int64_t", "6",
           "weight rows accumulated together with blocks of 4 tokens: 6 x 4 is 24 of "
           "AVX-512's 32 registers (prefill 5-7% faster than 4 rows; decode keeps 4, "
           "which streams better)">,
    Option<"bf16Dot", "bf16-dot", "bool", "false",
           "bf16 weights: round activations to bf16 and use vdpbf16ps">,
    Option<"bf16DotFma", "bf16-dot-fma", "bool", "false",
           "with bf16-dot: compute vdpbf16ps's sums with two f32 FMAs per bf16 pair "
           "(the same results; faster where vdpbf16ps issues every 2 cycles, as on "
           "Intel Xeons)">,
    Option<"intDot", "int-dot", "bool", "false",
           "int8 and int4 weights: quantize activations to bytes per block and use "
           "AVX-512 VNNI vpdpbusd">,
    Option<"prefillKPanelBytes", "prefill-k-panel-bytes", "int64_t",
           "::llamac::kDefaultPrefillKPanelBytes",
           "float and bf16 weights in prefill: when a row block's weights are more bytes "
           "than this, k runs in panels of this many bytes of the block's weights, the "
           "accumulators kept in memory between panels, so that the panel stays in L1 "
           "across the token blocks (0: never; the sums are the same)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::x86vector::X86VectorDialect"
  ];
}

def LlamaLowerToGpu : Pass<"llama-lower-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower each kernel function to a gpu.func kernel (the shared NVVM/ROCDL lowering)";
  let description = [{
    Input: the partitioned kernel module, one private `func.func` per llama
    op on tensors (without recomputed producers). Output: one `gpu.func`
    kernel per function inside `gpu.module @llamac_kernels`, on memrefs,
    with its static launch grid in `llamac.grid` and its block in
    `known_block_size`. What differs between targets (32-lane warps on
    NVIDIA, 64-lane waves on AMD, the width of one load) comes from the
    target info; each kernel family is written once:

    - projections (`ProjectionOpInterface`): a GEMV with one subgroup per
      output feature, 16-byte weight loads (4 f32 or 8 bf16/f16 widened in
      registers), a `gpu.shuffle xor` butterfly, and the residual add or
      SwiGLU as its epilogue; a prefill chunk of bf16 weights instead runs
      on the matrix units (`nvvm.mma.sync` m16n8k16 / `amdgpu.mfma`
      16x16x16) with its activations rounded to bf16, unless
      `bf16-matrix-units=false`;
    - rms_norm: one subgroup per row;
    - rope and kv_write: one thread per element;
    - attention: one subgroup per (head, query row), online softmax over
      the live cache prefix (its last `window` positions with a sliding
      window);
    - embedding, add, mul, silu, swiglu: one thread per element.

    The `pos` scalar becomes a pointer to a device int64 that the kernel
    reads, so a captured decode graph replays for every position.
  }];
  let options = [
    Option<"target", "target", "std::string", "\"nvvm\"", "nvvm | rocdl">,
    Option<"bf16MatrixUnits", "bf16-matrix-units", "bool", "true",
           "Prefill projections of bf16 weights on the matrix units, activations rounded to bf16">,
    Option<"gemvSplitK", "gemv-split-k", "bool", "false",
           "GEMV blocks whose 4 subgroups share their rows and split each row's columns, "
           "their sums meeting in shared memory (default: each subgroup its own rows)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // LLAMAC_PASSES_TD
