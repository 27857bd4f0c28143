#!/usr/bin/env python3
"""Expected YaRN RoPE values for test/unit (ReferenceModelTest, ImportTest).

transformers' _compute_yarn_parameters (src/transformers/modeling_rope_utils.py)
transcribed with Python's math module, in double, independently of the C++
code under test. Run it to regenerate the numbers pasted into the tests:

    python3 test/reference/yarn-expected-values.py
"""
import math


def yarn(head_dim, theta, max_position_embeddings, scaling):
    dim = head_dim
    base = theta
    factor = scaling["factor"]
    original = scaling.get("original_max_position_embeddings") or max_position_embeddings

    def get_mscale(scale, mscale=1):
        if scale <= 1:
            return 1.0
        return 0.1 * mscale * math.log(scale) + 1.0

    attention_factor = scaling.get("attention_factor")
    mscale = scaling.get("mscale")
    mscale_all_dim = scaling.get("mscale_all_dim")
    if attention_factor is None:
        if mscale and mscale_all_dim:
            attention_factor = float(get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim))
        else:
            attention_factor = get_mscale(factor)
    beta_fast = scaling.get("beta_fast") or 32
    beta_slow = scaling.get("beta_slow") or 1

    def correction_dim(rotations):
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low = correction_dim(beta_fast)
    high = correction_dim(beta_slow)
    if scaling.get("truncate", True):
        low = math.floor(low)
        high = math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    inv_freq = []
    for i in range(dim // 2):
        pos_freq = base ** (2 * i / dim)
        ramp = min(max((i - low) / (high - low), 0.0), 1.0)
        extrapolation = 1 - ramp
        inv_freq.append(1 / (factor * pos_freq) * (1 - extrapolation) + 1 / pos_freq * extrapolation)
    return float(low), float(high), attention_factor, inv_freq


CASES = [
    # stories260K's shape (head_dim 8): the reference model's tests.
    ("stories, factor 4 over 128 (the e2e model's)", 8, 10000.0, 512,
     {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128}),
    ("stories, NousResearch's factor 16 over 4096", 8, 10000.0, 512,
     {"type": "yarn", "factor": 16.0, "original_max_position_embeddings": 4096, "finetuned": True}),
    ("stories, every knob", 8, 500000.0, 2048,
     {"rope_type": "yarn", "factor": 8.0, "beta_fast": 8, "beta_slow": 0.5,
      "mscale": 1.0, "mscale_all_dim": 0.5, "truncate": False}),
    # Published shapes: ModelConfigTest's computeYarnRamp checks.
    ("Yarn-Llama-2-13b-128k", 128, 10000.0, 131072,
     {"type": "yarn", "factor": 32.0, "original_max_position_embeddings": 4096, "finetuned": True}),
    ("DeepSeek-style mscale pair", 64, 10000.0, 163840,
     {"type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096, "beta_fast": 32,
      "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.8}),
]

if __name__ == "__main__":
    for name, head_dim, theta, max_pos, scaling in CASES:
        low, high, attention, inv = yarn(head_dim, theta, max_pos, scaling)
        print(f"// {name}: head_dim {head_dim}, theta {theta}, max_position_embeddings {max_pos},")
        print(f"// {scaling}")
        print(f"low {low!r}, high {high!r}, attention_factor {attention!r}")
        print("inv_freq {" + ", ".join(repr(x) for x in inv[:4]) + (", ..." if len(inv) > 4 else "") + "}")
