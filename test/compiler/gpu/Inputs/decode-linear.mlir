// A bufferized decode projection (bf16 weights), as the CPU partitioner and
// bufferization leave it; input of the GPU kernel-family tests.
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @decode_linear(%x: memref<1x2048xf32>, %w: memref<256x2048xbf16>, %out: memref<1x256xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x2048xf32>, memref<256x2048xbf16>) outs(%out : memref<1x256xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %e = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %e : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
