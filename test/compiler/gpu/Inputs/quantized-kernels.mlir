// Quantized projections as the partitioner writes their kernel functions
// for a GPU target: each weight a llama.dequantize of its stored bytes
// (docs/quantization.md), which the GEMV reads in place.

// int8 decode with the residual epilogue: K = 2048 is whole 16-byte loads,
// 4 steps of a warp's 512 columns (unrolled by 4: four loads in flight per
// lane), 2 of a wave's 1024.
func.func private @q_int8_linear(%x: tensor<1x2048xf32>, %q: tensor<128x2048xi8>, %s: tensor<128xbf16>,
                                 %r: tensor<1x128xf32>,
                                 %out: tensor<1x128xf32> {bufferization.writable = true}) -> tensor<1x128xf32> {
  %w = llama.dequantize int8 %q scales %s from @"layers.wo" : tensor<128x2048xi8>, tensor<128xbf16> -> tensor<128x2048xf32>
  %0 = llama.linear %x, %w plus %r : tensor<1x128xf32> : tensor<1x2048xf32>, tensor<128x2048xf32> -> tensor<1x128xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x128xf32>, tensor<1x128xf32>) -> tensor<1x128xf32>
  return %1 : tensor<1x128xf32>
}

// -----

// int4 in groups of 64 with a fused RMSNorm, q/k/v as one kernel: 16 bytes
// (32 columns) per lane and step.
func.func private @q_int4_norm_linear_group(%x: tensor<1x256xf32>, %g: tensor<256xf32>,
    %qq: tensor<64x128xi8>, %sq: tensor<64x4xbf16>, %zq: tensor<64x4xbf16>,
    %qk: tensor<32x128xi8>, %sk: tensor<32x4xbf16>, %zk: tensor<32x4xbf16>,
    %qv: tensor<32x128xi8>, %sv: tensor<32x4xbf16>, %zv: tensor<32x4xbf16>,
    %oq: tensor<1x64xf32> {bufferization.writable = true}, %ok: tensor<1x32xf32> {bufferization.writable = true},
    %ov: tensor<1x32xf32> {bufferization.writable = true}) -> (tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  %n = llama.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<1x256xf32>, tensor<256xf32>
  %wq = llama.dequantize int4 group 64 %qq scales %sq zeros %zq from @"layers.wq" : tensor<64x128xi8>, tensor<64x4xbf16>, tensor<64x4xbf16> -> tensor<64x256xf32>
  %wk = llama.dequantize int4 group 64 %qk scales %sk zeros %zk from @"layers.wk" : tensor<32x128xi8>, tensor<32x4xbf16>, tensor<32x4xbf16> -> tensor<32x256xf32>
  %wv = llama.dequantize int4 group 64 %qv scales %sv zeros %zv from @"layers.wv" : tensor<32x128xi8>, tensor<32x4xbf16>, tensor<32x4xbf16> -> tensor<32x256xf32>
  %0:3 = llama.linear_group %n, %wq, %wk, %wv : tensor<1x256xf32>, tensor<64x256xf32>, tensor<32x256xf32>, tensor<32x256xf32> -> tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>
  %1 = bufferization.materialize_in_destination %0#0 in %oq : (tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64xf32>
  %2 = bufferization.materialize_in_destination %0#1 in %ok : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  %3 = bufferization.materialize_in_destination %0#2 in %ov : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  return %1, %2, %3 : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}

// -----

// int4 in groups of 32, gate and up with SwiGLU over 172 columns (not whole
// 32-column blocks): one column per lane, its nibble found by index, for a
// prefill of 8 tokens (blocks of 4).
func.func private @q_int4_gated_linear(%x: tensor<8x172xf32>,
    %qg: tensor<64x96xi8>, %sg: tensor<64x6xbf16>, %zg: tensor<64x6xbf16>,
    %qu: tensor<64x96xi8>, %su: tensor<64x6xbf16>, %zu: tensor<64x6xbf16>,
    %out: tensor<8x64xf32> {bufferization.writable = true}) -> tensor<8x64xf32> {
  %g = llama.dequantize int4 group 32 %qg scales %sg zeros %zg from @"layers.w1" : tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x6xbf16> -> tensor<64x172xf32>
  %u = llama.dequantize int4 group 32 %qu scales %su zeros %zu from @"layers.w3" : tensor<64x96xi8>, tensor<64x6xbf16>, tensor<64x6xbf16> -> tensor<64x172xf32>
  %0 = llama.gated_linear %x, %g, %u : tensor<8x172xf32>, tensor<64x172xf32>, tensor<64x172xf32> -> tensor<8x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  return %1 : tensor<8x64xf32>
}

// -----

// A prefill chunk of int8 weights: on the matrix units, the bytes entering
// as bf16 integers and each feature's scale applied to its sums (with the
// matrix units off: the GEMV, 4 tokens a block).
func.func private @q_int8_prefill(%x: tensor<32x64xf32>, %q: tensor<64x64xi8>, %s: tensor<64xbf16>,
                                  %out: tensor<32x64xf32> {bufferization.writable = true}) -> tensor<32x64xf32> {
  %w = llama.dequantize int8 %q scales %s from @"layers.wq" : tensor<64x64xi8>, tensor<64xbf16> -> tensor<64x64xf32>
  %0 = llama.linear %x, %w : tensor<32x64xf32>, tensor<64x64xf32> -> tensor<32x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<32x64xf32>, tensor<32x64xf32>) -> tensor<32x64xf32>
  return %1 : tensor<32x64xf32>
}

// -----

// A prefill chunk of int4 weights (groups of 32) with the residual: on the
// matrix units, each run of nibbles dequantized in f32 and rounded to bf16.
func.func private @q_int4_prefill(%x: tensor<32x64xf32>, %q: tensor<64x32xi8>, %s: tensor<64x2xbf16>,
                                  %z: tensor<64x2xbf16>, %r: tensor<32x64xf32>,
                                  %out: tensor<32x64xf32> {bufferization.writable = true}) -> tensor<32x64xf32> {
  %w = llama.dequantize int4 group 32 %q scales %s zeros %z from @"layers.wo" : tensor<64x32xi8>, tensor<64x2xbf16>, tensor<64x2xbf16> -> tensor<64x64xf32>
  %0 = llama.linear %x, %w plus %r : tensor<32x64xf32> : tensor<32x64xf32>, tensor<64x64xf32> -> tensor<32x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<32x64xf32>, tensor<32x64xf32>) -> tensor<32x64xf32>
  return %1 : tensor<32x64xf32>
}
