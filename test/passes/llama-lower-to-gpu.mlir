// RUN: llama-opt %S/../compiler/gpu/Inputs/kernels.mlir --split-input-file --llama-lower-to-gpu=target=nvvm | FileCheck %s --check-prefix=NVVM
// RUN: llama-opt %S/../compiler/gpu/Inputs/kernels.mlir --split-input-file --llama-lower-to-gpu=target=rocdl | FileCheck %s --check-prefix=ROCDL
// RUN: llama-opt %S/../compiler/gpu/Inputs/kernels.mlir --split-input-file --llama-lower-to-gpu="target=nvvm bf16-matrix-units=false" | FileCheck %s --check-prefix=GEMV
// RUN: llama-opt %S/../compiler/gpu/Inputs/kernels.mlir --split-input-file --llama-lower-to-gpu="target=nvvm gemv-split-k=true" | FileCheck %s --check-prefix=SPLITK
// RUN: not llama-opt %s --split-input-file --llama-lower-to-gpu=target=spirv 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not llama-opt %s --split-input-file --llama-lower-to-gpu=target=nvvm 2>&1 | FileCheck %s --check-prefix=TWO

// The kernels of Inputs/kernels.mlir, one gpu.func each, on memrefs, with the
// static grid and block the runtime launches them with. Warps are 32 lanes,
// waves 64; a GEMV block holds 4 subgroups, each computing 2 consecutive
// output features of float weights (each loaded chunk of x feeds both), so
// a block covers 8 rows.

// NVVM: module attributes {gpu.container_module}
// NVVM: gpu.module @llamac_kernels
// NVVM: gpu.func @k_linear(%{{.*}}: memref<1x256xf32>, %{{.*}}: memref<128x256xbf16>, %{{.*}}: memref<1x128xf32>, %{{.*}}: memref<1x128xf32>) kernel
// NVVM-SAME: known_block_size = array<i32: 128, 1, 1>, llamac.grid = array<i64: 16, 1, 1>
// 16 bytes of weights per row and 32 of activations per lane and step: both
// rows' weights first, widened to f32, then x once for both, into 4-lane
// accumulators (one per row).
// NVVM: scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>)
// NVVM: vector.load {{.*}} : memref<128x256xbf16>, vector<8xbf16>
// NVVM: arith.extf {{.*}} : vector<8xbf16> to vector<8xf32>
// NVVM: vector.load {{.*}} : memref<128x256xbf16>, vector<8xbf16>
// NVVM: arith.extf {{.*}} : vector<8xbf16> to vector<8xf32>
// NVVM: vector.load {{.*}} : memref<1x256xf32>, vector<8xf32>
// NVVM-NOT: vector.load
// NVVM: vector.fma
// NVVM: gpu.shuffle  xor {{.*}}, %c16_i32, %c32_i32
// NVVM: gpu.shuffle  xor {{.*}}, %c1_i32, %c32_i32
// Lane 0 writes the sum plus the residual.
// NVVM: memref.load %arg2
// NVVM: memref.store {{.*}}, %arg3

// With gemv-split-k the block's 4 subgroups share its 2 rows (64 blocks for
// 128 rows, not 16): subgroup w's lanes start at (32w + lane) * 8 columns
// and the block strides 1024; after its butterfly each subgroup's lane 0
// puts its 2 sums in shared memory ([4 subgroups, 2 sums]), and behind one
// barrier they are added in the subgroups' order; thread 0 writes.
// SPLITK: gpu.func @k_linear({{.*}}) workgroup(%[[S:.*]] : memref<4x2xf32, #gpu.address_space<workgroup>>
// SPLITK-SAME: known_block_size = array<i32: 128, 1, 1>, llamac.grid = array<i64: 64, 1, 1>
// SPLITK: %[[TID:.*]] = gpu.thread_id  x
// SPLITK: %[[LANE:.*]] = arith.remui %[[TID]], %c32
// SPLITK: %[[WARP:.*]] = arith.divui %[[TID]], %c32
// SPLITK: %[[FIRST:.*]] = arith.cmpi eq, %[[TID]], %{{.*}} : index
// SPLITK: %[[PART:.*]] = arith.muli %[[WARP]], %{{.*}} : index
// SPLITK: %[[POS:.*]] = arith.addi %[[PART]], %[[LANE]] : index
// SPLITK: %[[START:.*]] = arith.muli %[[POS]], %c8 : index
// SPLITK: scf.for %{{.*}} = %[[START]] to %c256 step %c1024
// SPLITK: gpu.shuffle  xor
// SPLITK: memref.store %{{.*}}, %[[S]][%[[WARP]], %{{.*}}]
// SPLITK: memref.store %{{.*}}, %[[S]][%[[WARP]], %{{.*}}]
// SPLITK: gpu.barrier
// SPLITK-COUNT-8: memref.load %[[S]][
// SPLITK: scf.if %[[FIRST]]
// SPLITK: memref.store {{.*}}, %arg3

// ROCDL: gpu.func @k_linear({{.*}}) kernel
// ROCDL-SAME: known_block_size = array<i32: 256, 1, 1>, llamac.grid = array<i64: 16, 1, 1>
// ROCDL: gpu.shuffle  xor {{.*}}, %c32_i32, %c64_i32
// ROCDL: gpu.shuffle  xor {{.*}}, %c1_i32, %c64_i32

// The group's grid spans 64 + 32 + 32 rows; each weight has its own branch.
// NVVM: gpu.func @k_linear_group
// NVVM-SAME: llamac.grid = array<i64: 16, 1, 1>
// NVVM-COUNT-3: vector.load {{.*}} : memref<{{64|32}}x64xf32>, vector<4xf32>

// Both tokens in one block, sharing each weight load; 172 bf16 columns are
// not whole 16-byte loads, so lanes take one element at a time: gate and up
// for 2 rows and 2 tokens are 8 sums in the same loop, and lane 0 stores
// both tokens of both rows.
// NVVM: gpu.func @k_gated_linear
// NVVM-SAME: llamac.grid = array<i64: 8, 1, 1>
// NVVM: scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32)
// NVVM-NOT: vector.load
// NVVM: math.exp
// NVVM: memref.store {{.*}} : memref<2x64xf32>
// NVVM: math.exp
// NVVM: memref.store {{.*}} : memref<2x64xf32>

// NVVM: gpu.func @k_rms_norm
// NVVM-SAME: known_block_size = array<i32: 32, 1, 1>, llamac.grid = array<i64: 4, 1, 1>
// NVVM: gpu.shuffle  xor
// NVVM: math.rsqrt

// pos arrives as a pointer to a device int64; one thread per element.
// NVVM: gpu.func @k_rope(%{{.*}}: memref<1x8x64xf32>, %{{.*}}: memref<1x8x64xf32>, %[[POS:[a-z0-9]+]]: memref<1xi64>)
// NVVM-SAME: known_block_size = array<i32: 64, 1, 1>, llamac.grid = array<i64: 1, 8, 1>
// NVVM: memref.load %[[POS]]
// NVVM: math.powf
// NVVM: math.cos
// NVVM: math.sin

// Linear scaling divides the inverse frequency by the factor before the angle.
// NVVM: gpu.func @k_rope_linear
// NVVM: %[[POW:.*]] = math.powf
// NVVM: %[[INV:.*]] = arith.divf %{{.*}}, %[[POW]] : f32
// NVVM: %[[FACTOR:.*]] = arith.constant 4.000000e+00 : f32
// NVVM: %[[FREQ:.*]] = arith.divf %[[INV]], %[[FACTOR]] : f32
// NVVM: arith.mulf %{{.*}}, %[[FREQ]] : f32
// NVVM: math.cos

// YaRN blends the two frequencies along its ramp, then multiplies the
// rotation's cos and sin by the attention factor.
// NVVM: gpu.func @k_rope_yarn
// NVVM: %[[YPOW:.*]] = math.powf
// NVVM: %[[EXTRAP:.*]] = arith.divf %{{.*}}, %[[YPOW]] : f32
// NVVM: %[[YFACTOR:.*]] = arith.constant 1.600000e+01 : f32
// NVVM: arith.mulf %[[YFACTOR]], %[[YPOW]] : f32
// NVVM: arith.maxnumf
// NVVM: arith.minnumf
// NVVM: %[[YFREQ:.*]] = arith.addf
// NVVM: %[[YANGLE:.*]] = arith.mulf %{{.*}}, %[[YFREQ]] : f32
// NVVM: %[[YCOS:.*]] = math.cos %[[YANGLE]] : f32
// NVVM: %[[YSIN:.*]] = math.sin %[[YANGLE]] : f32
// NVVM: %[[ATTN:.*]] = arith.constant 1.250000e+00 : f32
// NVVM: arith.mulf %[[YCOS]], %[[ATTN]] : f32
// NVVM: arith.mulf %[[YSIN]], %[[ATTN]] : f32

// layer stays a value.
// NVVM: gpu.func @k_kv_write(%{{.*}}: memref<1x2x64xf32>, %{{.*}}: memref<3x256x2x64xf32>, %{{.*}}: index, %{{.*}}: memref<1xi64>)
// NVVM-SAME: llamac.grid = array<i64: 1, 2, 1>

// One block of 4 subgroups per (head, row): the kv head is head / 4; the
// query row is staged in shared memory; subgroup w scores the chunks of 32
// keys starting at 32 w, every 128 keys, each probability broadcast with an
// idx shuffle; the partial softmaxes merge through shared memory.
// NVVM: gpu.func @k_attention
// NVVM-SAME: workgroup(%[[Q:.*]] : memref<1x1x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<4xf32, #gpu.address_space<workgroup>> {{.*}}, %{{.*}} : memref<4xf32, #gpu.address_space<workgroup>> {{.*}}, %[[PARTIAL:.*]] : memref<4x64xf32, #gpu.address_space<workgroup>>
// NVVM-SAME: known_block_size = array<i32: 128, 1, 1>, llamac.grid = array<i64: 8, 1, 1>
// NVVM: arith.divui %block_id_x, %c4
// NVVM: memref.store {{.*}}, %[[Q]]
// NVVM: gpu.barrier
// NVVM: scf.for {{.*}} step %c128{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32)
// NVVM: vector.load %[[Q]]
// NVVM: gpu.shuffle  xor
// NVVM: math.exp
// NVVM: gpu.shuffle  idx
// NVVM: memref.store {{.*}}, %[[PARTIAL]]
// NVVM: gpu.barrier
// NVVM: memref.load %[[PARTIAL]]

// NVVM: gpu.func @k_embedding
// NVVM-SAME: known_block_size = array<i32: 256, 1, 1>, llamac.grid = array<i64: 4, 1, 1>
// NVVM: arith.minui

// NVVM: gpu.func @k_swiglu
// NVVM-SAME: known_block_size = array<i32: 256, 1, 1>, llamac.grid = array<i64: 3, 1, 1>

// Fused RMSNorm, with no pass of its own: each subgroup reads g∘x as it
// streams its weight row, sums x² in the same loop, and scales its dot
// product by rsqrt(Σx²/dim + eps) at the end. No shared memory, no barrier.
// Two rows per subgroup: their weights, then g and x once for both, x² into
// its own accumulator, g∘x into each row's.
// NVVM: gpu.func @k_norm_linear_group(%{{[^)]*}}) kernel attributes
// NVVM-SAME: llamac.grid = array<i64: 48, 1, 1>
// NVVM-NOT: gpu.barrier
// NVVM: scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>)
// NVVM-COUNT-2: vector.load {{.*}} : memref<256x256xbf16>, vector<8xbf16>
// NVVM: vector.load %arg1[{{.*}}] {{.*}} : memref<256xbf16>, vector<8xbf16>
// NVVM: %[[X:.*]] = vector.load %arg0[{{.*}}] {{.*}} : memref<1x256xf32>, vector<8xf32>
// NVVM: vector.fma
// NVVM: %[[GX:.*]] = arith.mulf %{{.*}}, %[[X]] : vector<8xf32>
// NVVM: vector.extract_strided_slice %[[GX]]
// NVVM: vector.fma
// NVVM-NOT: gpu.barrier
// NVVM: math.rsqrt
// NVVM-NOT: gpu.barrier
// NVVM: gpu.return

// Split along K, the fused norm's Σx² meets the dot products in the same
// buffer (2 rows of one weight and one token, then the token's Σx²) before
// the inverse RMS; 384 rows in 192 blocks.
// SPLITK: gpu.func @k_norm_linear_group({{.*}}) workgroup(%{{.*}} : memref<4x3xf32, #gpu.address_space<workgroup>>
// SPLITK-SAME: llamac.grid = array<i64: 192, 1, 1>
// SPLITK: gpu.barrier
// SPLITK: math.rsqrt

// Fused RoPE in the cache write: one launch, rotated values stored.
// NVVM: gpu.func @k_rope_kv_write(%{{.*}}: memref<1x2x64xf32>, %{{.*}}: memref<3x256x2x64xf32>, %{{.*}}: memref<1xi64>, %{{.*}}: index)
// NVVM: math.cos
// NVVM: memref.store {{.*}} : memref<3x256x2x64xf32>

// Fused RoPE in attention: the staged query row is rotated.
// NVVM: gpu.func @k_rope_attention
// NVVM: math.cos
// NVVM: memref.store {{.*}} : memref<1x1x64xf32, #gpu.address_space<workgroup>>
// NVVM: gpu.barrier

// Split-key attention: two kernels with the kernel function's parameters,
// tagged with its name and their launch order. Grid z splits the keys; each
// block records (max, sum, Σ p·v) in the scratch buffer, and an empty split
// weighs nothing; the combine kernel rescales the 16 splits to their common
// max.
// NVVM: gpu.func @k_split_attention({{.*}}, %{{.*}}: memref<1x8x64xf32>, %[[SCR:[a-z0-9]+]]: memref<1x8x16x66xf32>, %{{.*}}: index, %{{.*}}: memref<1xi64>)
// NVVM-SAME: llamac.grid = array<i64: 8, 1, 16>, llamac.kernel = "k_split_attention", llamac.step = 0
// NVVM: %[[SPLIT:[a-z_0-9]+]] = gpu.block_id  z
// NVVM: arith.ceildivui
// NVVM: gpu.shuffle  idx
// NVVM: arith.cmpf oeq, {{.*}}, %cst
// NVVM: memref.store {{.*}}, %[[SCR]][%{{.*}}, %{{.*}}, %[[SPLIT]], %{{.*}}]
// NVVM: gpu.func @k_split_attention_combine
// NVVM-SAME: llamac.grid = array<i64: 8, 1, 1>, llamac.kernel = "k_split_attention", llamac.step = 1
// NVVM-COUNT-16: arith.maximumf
// NVVM: memref.store {{.*}} : memref<1x8x64xf32>

// Prefill token blocks: 8 tokens (fewer than a matrix-unit tile) take
// blocks of 4 (grid y = 2), also with a fused norm at dim 4096 (no row is staged, so no shared
// memory bounds the block): every weight load feeds the 4 tokens, each with
// its own Σx² and scale: 2 rows x 4 tokens of sums and 4 of Σx².
// NVVM: gpu.func @k_norm_linear_prefill(%{{[^)]*}}) kernel attributes
// NVVM-SAME: llamac.grid = array<i64: 8, 2, 1>
// NVVM: %{{.*}}:12 = scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// NVVM: vector.load {{.*}} : memref<64x4096xbf16>, vector<8xbf16>
// NVVM-COUNT-4: vector.fma
// NVVM-COUNT-4: math.rsqrt

// 6 tokens take blocks of 2 (grid y = 3): token ids 2y and 2y + 1, each
// with its own residual row and output row.
// NVVM: gpu.func @k_linear_residual_prefill
// NVVM-SAME: llamac.grid = array<i64: 8, 3, 1>
// NVVM: %[[BASE:[0-9]+]] = arith.muli %block_id_y, %c2
// NVVM: %[[FIRST:[0-9]+]] = arith.addi %[[BASE]], %c0
// NVVM: %[[SECOND:[0-9]+]] = arith.addi %[[BASE]], %c1
// NVVM: vector.load %arg0[%[[FIRST]], %{{.*}}]
// NVVM: vector.load %arg0[%[[SECOND]], %{{.*}}]
// NVVM: memref.load %arg2[%[[FIRST]], %[[ROW:[0-9]+]]]
// NVVM: memref.store {{.*}}, %arg3[%[[FIRST]], %[[ROW]]]
// NVVM: memref.load %arg2[%[[SECOND]], %[[ROW]]]
// NVVM: memref.store {{.*}}, %arg3[%[[SECOND]], %[[ROW]]]

// Prefill chunks of bf16 weights run on the matrix units. A block is 4
// subgroups on the same 32 tokens, each with 32 features of its own: grid x
// is the 2 token tiles of 40 tokens, grid y the 8 + 2 + 3 subgroup slots of
// the 256-, 64- and 72-row weights. The fused norm stages each token's
// inverse RMS (rows past the last token read token 39) behind a barrier;
// activations are normalized and rounded to bf16 as they are read.
// NVVM: gpu.func @k_mma_norm_linear_group
// NVVM-SAME: workgroup(%[[INV:[a-z0-9]+]] : memref<32xf32, #gpu.address_space<workgroup>>
// NVVM-SAME: known_block_size = array<i32: 128, 1, 1>, llamac.grid = array<i64: 2, 4, 1>
// NVVM: arith.minui %{{.*}}, %c39
// NVVM: memref.store {{.*}}, %[[INV]]
// NVVM: gpu.barrier
// NVVM: memref.load %[[INV]]
// NVVM: arith.truncf {{.*}} : vector<2xf32> to vector<2xbf16>
// NVVM: vector.load %arg2{{.*}} : memref<256x256xbf16>, vector<2xbf16>
// NVVM: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// NVVM: memref.store {{.*}}, %arg5
// The 72-row weight: its rows are clamped for loading, the stores guarded.
// NVVM: arith.minui %{{.*}}, %c71
// NVVM: nvvm.mma.sync
// NVVM: arith.cmpi ult, %{{.*}}, %c72
// NVVM: memref.store {{.*}}, %arg7

// SwiGLU: gate and up share the subgroup's slot (96 rows: 3 slots, 1 block).
// NVVM: gpu.func @k_mma_gated_linear
// NVVM-SAME: llamac.grid = array<i64: 1, 1, 1>
// NVVM-COUNT-16: nvvm.mma.sync
// NVVM: arith.mulf
// NVVM: memref.store {{.*}}, %arg3
// NVVM: gpu.func @k_mma_linear_residual
// NVVM-SAME: llamac.grid = array<i64: 1, 1, 1>
// NVVM: nvvm.mma.sync
// NVVM: memref.load %arg2
// NVVM: memref.store {{.*}}, %arg3
// A verify kernel (llama.rows_match_step) computes each row as decode does:
// the GEMV (12 blocks of 8 rows, 8 token blocks of 4), never the matrix
// units, whose bf16 rounding of the activations decode does not do.
// NVVM: gpu.func @k_verify_gated_linear
// NVVM-SAME: llamac.grid = array<i64: 12, 8, 1>
// NVVM-NOT: nvvm.mma.sync
// NVVM: gpu.shuffle  xor
// NVVM-NOT: nvvm.mma.sync
// NVVM: gpu.return
// f32 weights, or a depth of 172, stay GEMVs (blocks of 4 tokens).
// NVVM: gpu.func @k_prefill_f32_weights
// NVVM-SAME: llamac.grid = array<i64: 8, 8, 1>
// NVVM-NOT: nvvm.mma.sync
// NVVM: gpu.shuffle  xor
// NVVM: gpu.func @k_prefill_odd_depth
// NVVM-SAME: llamac.grid = array<i64: 8, 8, 1>
// NVVM-NOT: nvvm.mma.sync
// NVVM: gpu.shuffle  xor

// On AMD the unit is a 16x16x16 MFMA on a 64-lane wave; each lane reads 4
// consecutive activations (16 bytes) and 4 weights (8 bytes).
// ROCDL: gpu.func @k_mma_norm_linear_group
// ROCDL-SAME: known_block_size = array<i32: 256, 1, 1>, llamac.grid = array<i64: 2, 4, 1>
// ROCDL: gpu.barrier
// ROCDL: vector.load %arg0{{.*}} : memref<40x256xf32>, vector<4xf32>
// ROCDL: arith.truncf {{.*}} : vector<4xf32> to vector<4xbf16>
// ROCDL: vector.load %arg2{{.*}} : memref<256x256xbf16>, vector<4xbf16>
// ROCDL: amdgpu.mfma 16x16x16 {{.*}} : vector<4xbf16>, vector<4xbf16>, vector<4xf32>
// ROCDL: gpu.func @k_mma_gated_linear
// ROCDL-COUNT-8: amdgpu.mfma 16x16x16
// ROCDL: gpu.func @k_verify_gated_linear
// ROCDL-NOT: amdgpu.mfma
// ROCDL: gpu.shuffle  xor
// ROCDL-NOT: amdgpu.mfma
// ROCDL: gpu.return
// ROCDL: gpu.func @k_prefill_f32_weights
// ROCDL-NOT: amdgpu.mfma
// ROCDL: gpu.shuffle  xor

// A long decode row: the GEMV loop is unrolled by 4 (16 steps per lane), so
// each lane has four steps of 16-byte weight loads in flight, of both rows.
// NVVM: gpu.func @k_linear_unrolled
// NVVM: scf.for
// NVVM-COUNT-8: vector.load %arg1{{.*}} : memref<64x4096xbf16>, vector<8xbf16>
// NVVM: scf.yield

// Mistral's sliding window of 100 positions: a row's keys start at
// live - 100 once it has more than 100 positions (else 0), and the splits
// share the keys from there to the row's position.
// NVVM: gpu.func @k_window_split_attention
// NVVM: %[[LIVE:.*]] = arith.addi %{{.*}}, %c1 : index
// NVVM: %[[BACK:.*]] = arith.subi %[[LIVE]], %c100 : index
// NVVM: %[[LONG:.*]] = arith.cmpi ugt, %[[LIVE]], %c100 : index
// NVVM: %[[FIRST:.*]] = arith.select %[[LONG]], %[[BACK]], %{{.*}} : index
// NVVM: %[[KEYS:.*]] = arith.subi %[[LIVE]], %[[FIRST]] : index
// NVVM: %[[LEN:.*]] = arith.ceildivui %[[KEYS]], %c16 : index
// NVVM: %[[OFFSET:.*]] = arith.muli %block_id_z, %[[LEN]] : index
// NVVM: arith.addi %[[FIRST]], %[[OFFSET]] : index

// In a ring cache of 128 positions, key and value j are read at slot
// j mod 128; the window's bounds still count positions.
// NVVM: gpu.func @k_ring_attention
// NVVM: arith.subi %{{.*}}, %c100 : index
// NVVM: %[[KSLOT:.*]] = arith.remui %{{.*}}, %c128{{.*}} : index
// NVVM: vector.load %arg1[%{{.*}}, %[[KSLOT]], %{{.*}}, %{{.*}}] {{.*}}: memref<3x128x2x64xf32>
// NVVM: %[[VSLOT:.*]] = arith.remui %{{.*}}, %c128{{.*}} : index
// NVVM: memref.load %arg2[%{{.*}}, %[[VSLOT]], %{{.*}}, %{{.*}}] : memref<3x128x2x64xf32>
// NVVM: gpu.return
// The ring's write: row n at slot (pos + n) mod 128.
// NVVM: gpu.func @k_ring_kv_write
// NVVM: %[[POS:.*]] = arith.index_cast %{{.*}} : i64 to index
// NVVM: %[[ROWPOS:.*]] = arith.addi %[[POS]], %block_id_x : index
// NVVM: %[[SLOT:.*]] = arith.remui %[[ROWPOS]], %c128 : index
// NVVM: memref.store %{{.*}}, %arg1[%arg2, %[[SLOT]], %block_id_y, %thread_id_x] : memref<3x128x2x64xf32>

// Without the matrix units (llamac --bf16-dot off) prefill stays a GEMV.
// GEMV-NOT: nvvm.mma.sync
// GEMV: gpu.func @k_mma_norm_linear_group
// GEMV-SAME: llamac.grid = array<i64: 49, 10, 1>
// GEMV-NOT: nvvm.mma.sync

// BAD: unknown GPU target 'spirv' (nvvm | rocdl)
func.func private @k(%a: tensor<2xf32>, %out: tensor<2xf32> {bufferization.writable = true}) -> tensor<2xf32> {
  %0 = llama.silu %a : tensor<2xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %1 : tensor<2xf32>
}

// -----

// A kernel function is one op, plus at most a fused producer the kernel
// families know how to compute (RMSNorm before a projection, RoPE before the
// cache write or attention).
// TWO: no GPU kernel computes 'llama.silu' inside 'llama.silu'
func.func private @k(%a: tensor<2xf32>, %out: tensor<2xf32> {bufferization.writable = true}) -> tensor<2xf32> {
  %0 = llama.silu %a : tensor<2xf32>
  %1 = llama.silu %0 : tensor<2xf32>
  %2 = bufferization.materialize_in_destination %1 in %out : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %2 : tensor<2xf32>
}

// -----

// SCRATCH: only an attention kernel takes a scratch buffer, and one at most
// RUN: not llama-opt %s --split-input-file --llama-lower-to-gpu=target=nvvm 2>&1 | FileCheck %s --check-prefix=SCRATCH
func.func private @k(%a: tensor<2xf32>, %out: tensor<2xf32> {bufferization.writable = true},
                     %scratch: tensor<2xf32> {llama.scratch}) -> tensor<2xf32> {
  %0 = llama.silu %a : tensor<2xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %1 : tensor<2xf32>
}

// -----

// A scratch buffer of the wrong shape for the split kernels is refused.
// SCRATCH: the GPU kernel family does not handle this op's shapes
func.func private @k(%q: tensor<1x8x64xf32>, %k: tensor<3x256x2x64xf32>, %v: tensor<3x256x2x64xf32>,
                     %out: tensor<1x8x64xf32> {bufferization.writable = true},
                     %scratch: tensor<1x8x16x64xf32> {llama.scratch},
                     %layer: index, %pos: index) -> tensor<1x8x64xf32> {
  %0 = llama.attention %q, %k, %v[%layer, %pos] : tensor<1x8x64xf32>, tensor<3x256x2x64xf32>, tensor<3x256x2x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1 : tensor<1x8x64xf32>
}
