// A whole llama.moe in a GPU kernel function: the GPU targets compute its
// halves (llama-split-mixture-of-experts), never a whole mixture.
func.func private @moe_whole(%y: tensor<1x64xf32>, %r: tensor<1x4xf32>, %w1: tensor<4x128x64xf32>, %w3: tensor<4x128x64xf32>, %w2: tensor<4x64x128xf32>, %out: tensor<1x64xf32> {bufferization.writable = true}) -> tensor<1x64xf32> {
  %0 = llama.moe %y, %r, %w1, %w3, %w2 {experts_per_token = 2 : i64} : tensor<1x64xf32>, tensor<1x4xf32>, tensor<4x128x64xf32>, tensor<4x128x64xf32>, tensor<4x64x128xf32> -> tensor<1x64xf32>
  %1 = bufferization.materialize_in_destination %0 in %out : (tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64xf32>
  return %1 : tensor<1x64xf32>
}
