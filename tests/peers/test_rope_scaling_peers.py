"""peprep.encodings.rope_scaling against implementations nobody here wrote (../shared/peers.md).

- transformers 5.x `ROPE_INIT_FUNCTIONS` (linear, dynamic, yarn, longrope, llama3) and
  `LlamaRotaryEmbedding.compute_default_rope_parameters` (there is no "default" key, peers.md Q2):
  same config -> same inverse frequencies and the same attention factor;
- rotary-embedding-torch `interpolate_factor` (PI) and `theta_rescale_factor` (NTK-aware);
- x-transformers `interpolation_factor` (PI) and `base_rescale_factor` (NTK-aware).

Tolerances: the peers compute θ in float32 (a float32 pow, then float32 blends); ours is float64. Their
relative error is at most a few float32 ulp: rtol 2e-6 on inverse frequencies (measured max 9.3e-7, YaRN
without truncation at s = 16). Attention factors are Python floats on both sides: rtol 1e-12.
"""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.rope_scaling import (
    DefaultRope,
    DynamicNTKScaling,
    LinearScaling,
    Llama3Scaling,
    LongRopeScaling,
    NTKAwareScaling,
    YarnScaling,
    rope_frequencies,
)

D, H = 128, 4
RTOL = 2e-6


def config(rope_parameters: dict, **kw):
    from transformers import LlamaConfig

    return LlamaConfig(hidden_size=D * H, num_attention_heads=H, num_key_value_heads=H, rope_parameters=rope_parameters, **kw)


def hf(rope_type: str, cfg, seq_len=None):
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    inv, factor = ROPE_INIT_FUNCTIONS[rope_type](cfg, device=None, seq_len=seq_len)
    return inv.to(torch.float64), float(factor)


def assert_same(ours: tuple, theirs: tuple) -> None:
    (a, fa), (b, fb) = ours, theirs
    assert a.shape == b.shape
    assert torch.allclose(a, b, rtol=RTOL, atol=0), (a / b - 1).abs().max()
    assert fa == pytest.approx(fb, rel=1e-12)


@pytest.mark.parametrize("base", [10000.0, 500000.0, 1e6])
def test_default_matches_transformers(base):
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    inv, factor = LlamaRotaryEmbedding.compute_default_rope_parameters(config({"rope_type": "default", "rope_theta": base}))
    assert_same(rope_frequencies(DefaultRope(base), D), (inv.to(torch.float64), float(factor)))


@pytest.mark.parametrize("factor", [2.0, 4.0, 8.0])
def test_linear_matches_transformers(factor):
    cfg = config({"rope_type": "linear", "factor": factor, "rope_theta": 10000.0})
    assert_same(rope_frequencies(LinearScaling(factor), D), hf("linear", cfg))


@pytest.mark.parametrize("factor", [1.0, 2.0, 4.0])
@pytest.mark.parametrize("seq_len", [None, 1000, 4096, 4097, 10000, 40000])
def test_dynamic_ntk_matches_transformers(factor, seq_len):
    cfg = config({"rope_type": "dynamic", "factor": factor, "rope_theta": 10000.0}, max_position_embeddings=4096)
    assert_same(rope_frequencies(DynamicNTKScaling(factor, 4096), D, seq_len), hf("dynamic", cfg, seq_len))


@pytest.mark.parametrize("factor", [2.0, 4.0, 16.0, 32.0])
@pytest.mark.parametrize("truncate", [True, False])
@pytest.mark.parametrize("original", [2048, 4096])
def test_yarn_matches_transformers(factor, truncate, original):
    params = {"rope_type": "yarn", "factor": factor, "rope_theta": 10000.0,
              "original_max_position_embeddings": original, "truncate": truncate}
    cfg = config(params, max_position_embeddings=int(original * factor))
    assert_same(rope_frequencies(YarnScaling(factor, original, truncate=truncate), D), hf("yarn", cfg))


def test_yarn_custom_betas_and_attention_factors_match_transformers():
    cases = [
        ({"beta_fast": 16.0, "beta_slow": 2.0}, {"beta_fast": 16.0, "beta_slow": 2.0}),
        ({"attention_factor": 1.5}, {"attention_factor": 1.5}),
        ({"mscale": 1.0, "mscale_all_dim": 0.707}, {"mscale": 1.0, "mscale_all_dim": 0.707}),  # DeepSeek-V2 style
    ]
    for theirs, ours in cases:
        params = {"rope_type": "yarn", "factor": 40.0, "rope_theta": 10000.0, "original_max_position_embeddings": 4096, **theirs}
        cfg = config(params, max_position_embeddings=4096 * 40)
        assert_same(rope_frequencies(YarnScaling(40.0, 4096, **ours), D), hf("yarn", cfg))


@pytest.mark.parametrize("seq_len", [None, 4096, 4097, 131072])
def test_longrope_matches_transformers(seq_len):
    short = [1.0 + 0.02 * i for i in range(D // 2)]
    long = [1.0 + 0.7 * i for i in range(D // 2)]
    params = {"rope_type": "longrope", "rope_theta": 10000.0, "short_factor": short, "long_factor": long,
              "original_max_position_embeddings": 4096}
    cfg = config(params, max_position_embeddings=131072)
    ours = LongRopeScaling(tuple(short), tuple(long), original_max_position_embeddings=4096, max_position_embeddings=131072)
    assert_same(rope_frequencies(ours, D, seq_len), hf("longrope", cfg, seq_len))


def test_llama3_matches_transformers():
    params = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 8192, "rope_theta": 500000.0}
    cfg = config(params, max_position_embeddings=131072)
    assert_same(rope_frequencies(Llama3Scaling(), D), hf("llama3", cfg))


@pytest.mark.parametrize("factor", [2.0, 4.0])
def test_pi_and_ntk_match_rotary_embedding_torch(factor):
    """rotary-embedding-torch divides positions by interpolate_factor (PI) and multiplies theta by
    theta_rescale_factor^(dim/(dim−2)) (NTK-aware): compare the angle tables m·θ."""
    from rotary_embedding_torch import RotaryEmbedding

    t = torch.arange(300, dtype=torch.float32)
    pi = RotaryEmbedding(D, interpolate_factor=factor, cache_if_possible=False)
    theirs = pi.forward(pi.get_seq_pos(300, device=None, dtype=torch.float32))[:, 0::2].to(torch.float64)
    ours = t.to(torch.float64)[:, None] * rope_frequencies(LinearScaling(factor), D)[0]
    assert torch.allclose(theirs, ours, rtol=RTOL, atol=1e-4)
    ntk = RotaryEmbedding(D, theta_rescale_factor=factor, cache_if_possible=False)
    assert torch.allclose(ntk.freqs.to(torch.float64), rope_frequencies(NTKAwareScaling(factor), D)[0], rtol=RTOL, atol=0)


@pytest.mark.parametrize("factor", [2.0, 4.0])
def test_pi_and_ntk_match_x_transformers(factor):
    from x_transformers.x_transformers import RotaryEmbedding

    positions = torch.arange(300, dtype=torch.float32)
    freqs, _ = RotaryEmbedding(D, interpolation_factor=factor)(positions)
    ours = positions.to(torch.float64)[:, None] * rope_frequencies(LinearScaling(factor), D)[0]
    assert torch.allclose(freqs[..., 0::2].reshape(300, -1).to(torch.float64), ours, rtol=RTOL, atol=1e-4)
    ntk = RotaryEmbedding(D, base_rescale_factor=factor)
    assert torch.allclose(ntk.inv_freq.to(torch.float64), rope_frequencies(NTKAwareScaling(factor), D)[0], rtol=RTOL, atol=0)
