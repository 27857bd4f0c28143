#!/usr/bin/env python3
"""Writes a tiny Llama-3-shaped Hugging Face checkpoint whose greedy choice
is fixed: make-llama3-shaped.py DIR NEXT_ID

Llama 3's vocabulary (128,256), GQA (4 heads, 2 KV heads), llama3 RoPE
scaling, BOS 128000 and EOS [128001, 128008, 128009] as Llama 3.1 Instruct's
generation_config.json; dim 64, one layer. Every embedding row is all ones and
every layer weight zero, so the final hidden state is all ones whatever the
tokens; lm_head is zero except row NEXT_ID (ones), so greedy decoding always
picks NEXT_ID. No tokenizer is written: the test puts one beside it.
"""

import json
import os
import struct
import sys

out, next_id = sys.argv[1], int(sys.argv[2])
vocab, dim, hidden, heads, kv_heads = 128256, 64, 128, 4, 2
head_dim = dim // heads
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": dim, "intermediate_size": hidden,
        "num_hidden_layers": 1, "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "head_dim": head_dim,
        "vocab_size": vocab, "max_position_embeddings": 256,
        "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
        "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 8192,
                         "rope_type": "llama3"},
        "tie_word_embeddings": False, "bos_token_id": 128000,
        "eos_token_id": 128001, "torch_dtype": "bfloat16"}, f, indent=2)
with open(os.path.join(out, "generation_config.json"), "w") as f:
    json.dump({"bos_token_id": 128000,
               "eos_token_id": [128001, 128008, 128009]}, f, indent=2)

ONE, ZERO = b"\x80\x3f", b"\x00\x00"  # bf16 1.0 and 0.0, little-endian
tensors = []  # (name, shape, bytes)
tensors.append(("model.embed_tokens.weight", [vocab, dim], ONE * (vocab * dim)))
head = bytearray(ZERO * (vocab * dim))
head[next_id * dim * 2:(next_id + 1) * dim * 2] = ONE * dim
tensors.append(("lm_head.weight", [vocab, dim], bytes(head)))
tensors.append(("model.norm.weight", [dim], ONE * dim))
layer = "model.layers.0."
for name, shape in [("self_attn.q_proj.weight", [dim, dim]),
                    ("self_attn.k_proj.weight", [kv_heads * head_dim, dim]),
                    ("self_attn.v_proj.weight", [kv_heads * head_dim, dim]),
                    ("self_attn.o_proj.weight", [dim, dim]),
                    ("mlp.gate_proj.weight", [hidden, dim]),
                    ("mlp.up_proj.weight", [hidden, dim]),
                    ("mlp.down_proj.weight", [dim, hidden])]:
    tensors.append((layer + name, shape, ZERO * (shape[0] * shape[1])))
for name in ["input_layernorm.weight", "post_attention_layernorm.weight"]:
    tensors.append((layer + name, [dim], ONE * dim))

header, offset = {}, 0
for name, shape, data in tensors:
    header[name] = {"dtype": "BF16", "shape": shape,
                    "data_offsets": [offset, offset + len(data)]}
    offset += len(data)
encoded = json.dumps(header).encode()
encoded += b" " * (-len(encoded) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(encoded)))
    f.write(encoded)
    for _, _, data in tensors:
        f.write(data)
