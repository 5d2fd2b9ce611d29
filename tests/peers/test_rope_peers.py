"""peprep.encodings.rope / xpos against implementations nobody here wrote (../shared/peers.md).

- transformers 5.x: LlamaRotaryEmbedding (default rope), rotate_half, apply_rotary_pos_emb, LlamaAttention
  loaded with Meta-layout weights through the convert script's permutation; GPT-NeoX partial rotary; GPT-J.
- rotary-embedding-torch and x-transformers: interleaved layout, offsets, xPos.
- timm (loaded without torchvision): apply_rot_embed in both layouts.

Tolerances: where a peer computes its own angles in float32 (θ_i by a float32 pow, m·θ_i in float32) the
angles differ from ours (θ_i from float64, rounded once) by up to ~2 ulp of m·θ_i; for positions < 512 that is
< 1.2e-4 rad, so outputs of O(1) inputs agree to atol 2e-4. Where the peer is given our cos/sin, or only
applies a rotation, agreement is at float32 round-off (atol 1e-6).
"""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.rope import (
    RotaryEmbedding,
    angles,
    apply_rotary,
    cos_sin,
    inv_freq,
    permute_qk_weight,
    rope,
    rotate_half,
)
from peprep.encodings.xpos import apply_xpos

B, H, T, D = 2, 3, 40, 64
ANGLE_TOL = 2e-4  # float32 angles computed two ways, positions < 512 (module docstring)
EXACT_TOL = 1e-6


def randn(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def llama_config(base: float = 10000.0, **kw):
    from transformers import LlamaConfig

    kw = {"hidden_size": H * D, "num_attention_heads": H, "num_key_value_heads": H, **kw}
    return LlamaConfig(rope_parameters={"rope_type": "default", "rope_theta": base}, **kw)


# --- transformers (split-halves layout) -----------------------------------------------------------------


@pytest.mark.parametrize("base", [10000.0, 500000.0, 1e6])
def test_inv_freq_matches_transformers_default(base):
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    theirs, attention_factor = LlamaRotaryEmbedding.compute_default_rope_parameters(llama_config(base))
    assert attention_factor == 1.0
    assert torch.allclose(inv_freq(D, base).float(), theirs, rtol=1e-6, atol=0)


def test_cos_sin_match_llama_rotary_embedding():
    """LlamaRotaryEmbedding returns cos/sin of cat(freqs, freqs): our "half" layout."""
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    pos = torch.tensor([[0, 1, 2, 300, 511], [5, 6, 7, 8, 9]])
    cos, sin = LlamaRotaryEmbedding(llama_config())(torch.zeros(1, dtype=torch.float32), pos)
    ours_cos, ours_sin = cos_sin(angles(pos, inv_freq(D)), "half")
    assert torch.allclose(cos, ours_cos, atol=ANGLE_TOL) and torch.allclose(sin, ours_sin, atol=ANGLE_TOL)


def test_half_layout_matches_transformers_apply_rotary_pos_emb():
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb
    from transformers.models.llama.modeling_llama import rotate_half as hf_rotate_half

    q, k = randn(B, H, T, D, seed=1), randn(B, H, T, D, seed=2)
    pos = torch.arange(T).expand(B, T) * 7
    cos, sin = LlamaRotaryEmbedding(llama_config())(q, pos)
    q_hf, k_hf = apply_rotary_pos_emb(q, k, cos, sin)
    assert torch.equal(rotate_half(q), hf_rotate_half(q))
    assert torch.allclose(apply_rotary(q, cos, sin, layout="half"), q_hf, atol=EXACT_TOL)  # same cos/sin
    assert torch.allclose(rope(q, pos, layout="half"), q_hf, atol=ANGLE_TOL)  # our own angles
    assert torch.allclose(rope(k, pos, layout="half"), k_hf, atol=ANGLE_TOL)


def test_llama_attention_loads_meta_layout_weights_after_permutation():
    """A reference attention layer with interleaved RoPE (Meta) and weights (W_q, W_k, W_v, W_o) equals
    transformers' LlamaAttention (half layout) given permute_qk_weight(W_q), permute_qk_weight(W_k, n_kv),
    W_v, W_o — the conversion convert_llama_weights_to_hf.py performs. GQA: 4 query heads, 2 KV heads."""
    from transformers.models.llama.modeling_llama import LlamaAttention, LlamaRotaryEmbedding

    n_heads, n_kv, d = 4, 2, 16
    config = llama_config(hidden_size=n_heads * d, num_attention_heads=n_heads, num_key_value_heads=n_kv)
    config._attn_implementation = "eager"
    c, t = n_heads * d, 12
    x = randn(1, t, c, seed=3, dtype=torch.float64)
    wq, wk, wv, wo = (randn(*s, seed=4 + i, dtype=torch.float64) * c**-0.5 for i, s in enumerate(
        [(n_heads * d, c), (n_kv * d, c), (n_kv * d, c), (c, n_heads * d)]))

    # reference: interleaved RoPE, nn.Linear convention y = x W^T, causal softmax attention
    q = (x @ wq.T).view(1, t, n_heads, d).transpose(1, 2)
    k = (x @ wk.T).view(1, t, n_kv, d).transpose(1, 2).repeat_interleave(n_heads // n_kv, dim=1)
    v = (x @ wv.T).view(1, t, n_kv, d).transpose(1, 2).repeat_interleave(n_heads // n_kv, dim=1)
    pos = torch.arange(t)
    q, k = rope(q, pos), rope(k, pos)
    causal = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1)
    weights = torch.softmax(q @ k.transpose(-1, -2) / d**0.5 + causal, dim=-1)
    reference = (weights @ v).transpose(1, 2).reshape(1, t, c) @ wo.T

    layer = LlamaAttention(config, layer_idx=0).double()
    with torch.no_grad():
        layer.q_proj.weight.copy_(permute_qk_weight(wq, n_heads))
        layer.k_proj.weight.copy_(permute_qk_weight(wk, n_kv))
        layer.v_proj.weight.copy_(wv)
        layer.o_proj.weight.copy_(wo)
        position_embeddings = LlamaRotaryEmbedding(config)(x, pos[None])
        out, _ = layer(x, position_embeddings=position_embeddings, attention_mask=causal[None, None])
        unpermuted = layer.q_proj.weight.copy_(wq) is not None and layer.k_proj.weight.copy_(wk) is not None
        garbage, _ = layer(x, position_embeddings=position_embeddings, attention_mask=causal[None, None])
    assert unpermuted
    assert torch.allclose(out, reference, atol=1e-5)
    assert (garbage - reference).abs().mean() > 0.05 * reference.abs().mean()  # the skipped-permutation bug


def test_gpt_neox_partial_rotary():
    """GPT-NeoX: partial_rotary_factor 0.25 by default; the first R = D/4 channels rotated in the half layout,
    θ_i = base^(-2i/R) computed over R, the other channels passed through."""
    from transformers import GPTNeoXConfig
    from transformers.models.gpt_neox.modeling_gpt_neox import GPTNeoXRotaryEmbedding, apply_rotary_pos_emb

    config = GPTNeoXConfig(hidden_size=H * D, num_attention_heads=H)
    assert config.rope_parameters["partial_rotary_factor"] == 0.25
    q, k = randn(B, H, T, D, seed=5), randn(B, H, T, D, seed=6)
    pos = torch.arange(T).expand(B, T) * 3
    cos, sin = GPTNeoXRotaryEmbedding(config)(q, pos)
    assert cos.shape[-1] == D // 4
    q_hf, _ = apply_rotary_pos_emb(q, k, cos, sin)
    assert torch.allclose(RotaryEmbedding(D, layout="half", partial_rotary_factor=0.25)(q, k, pos)[0], q_hf, atol=ANGLE_TOL)


def test_gpt_j_interleaved_partial_rotary():
    """GPT-J: rotary_dim 64 of head_dim 256, interleaved pairs (rotate_every_two), sin/cos from
    create_sinusoidal_positions; the model rotates the first 64 channels and concatenates the rest."""
    from transformers import GPTJConfig
    from transformers.models.gptj.modeling_gptj import apply_rotary_pos_emb, create_sinusoidal_positions

    config = GPTJConfig()
    rot, head_dim = config.rotary_dim, config.n_embd // config.n_head
    assert (rot, head_dim) == (64, 256)
    q = randn(B, 8, 2, head_dim, seed=7)  # GPT-J's layout (B, T, H, D)
    pos = torch.arange(8).expand(B, 8) * 11
    sin, cos = torch.split(create_sinusoidal_positions(512, rot)[pos], rot // 2, dim=-1)
    theirs = torch.cat((apply_rotary_pos_emb(q[..., :rot], sin, cos), q[..., rot:]), dim=-1)
    ours = rope(q.transpose(1, 2), pos, rotary_dim=rot).transpose(1, 2)
    assert torch.allclose(ours, theirs, atol=ANGLE_TOL)


# --- interleaved peers ---------------------------------------------------------------------------------


def test_interleaved_matches_rotary_embedding_torch():
    from rotary_embedding_torch import RotaryEmbedding as LucidRotary

    q = randn(B, H, T, D, seed=8)
    peer = LucidRotary(dim=D)
    assert torch.allclose(rope(q, torch.arange(T)), peer.rotate_queries_or_keys(q), atol=ANGLE_TOL)
    assert torch.allclose(rope(q, torch.arange(T) + 100), peer.rotate_queries_or_keys(q, offset=100), atol=ANGLE_TOL)


def test_kv_cache_offset_matches_rotary_embedding_torch():
    """Queries of the last 3 tokens against 10 cached keys: the peer offsets the queries by k_len - q_len,
    our module takes offset = past length."""
    from rotary_embedding_torch import RotaryEmbedding as LucidRotary

    q, k = randn(1, H, 3, D, seed=9), randn(1, H, 10, D, seed=10)
    q_peer, k_peer = LucidRotary(dim=D).rotate_queries_with_cached_keys(q, k)
    module = RotaryEmbedding(D)
    q_ours, _ = module(q, q, offset=7)
    _, k_ours = module(k, k)
    assert torch.allclose(q_ours, q_peer, atol=ANGLE_TOL) and torch.allclose(k_ours, k_peer, atol=ANGLE_TOL)


def test_interleaved_matches_x_transformers_with_partial_rotary():
    from x_transformers.x_transformers import RotaryEmbedding as XRotary
    from x_transformers.x_transformers import apply_rotary_pos_emb

    q = randn(B, H, T, D, seed=11)
    for rot in (D, 16):
        freqs, scale = XRotary(rot)(torch.arange(T))
        assert scale == 1.0
        assert torch.allclose(rope(q, torch.arange(T), rotary_dim=rot), apply_rotary_pos_emb(q, freqs), atol=ANGLE_TOL)


def test_timm_apply_rot_embed_both_layouts(timm_layers):
    """timm's helper given our sin/cos tables: half=False is the interleaved layout, half=True the split halves."""
    sincos = timm_layers("pos_embed_sincos")
    x = randn(B, H, T, D, seed=12)
    for layout, half in (("interleaved", False), ("half", True)):
        cos, sin = cos_sin(angles(torch.arange(T) * 5, inv_freq(D)), layout)
        assert torch.allclose(sincos.apply_rot_embed(x, sin, cos, half=half), apply_rotary(x, cos, sin, layout=layout), atol=EXACT_TOL)


# --- xPos ------------------------------------------------------------------------------------------------


def test_xpos_matches_rotary_embedding_torch():
    """Scores q·k^T (invariant to the peer's centring of positions at T/2) agree."""
    from rotary_embedding_torch import RotaryEmbedding as LucidRotary

    q, k = randn(1, H, T, D, seed=13), randn(1, H, T, D, seed=14)
    q_peer, k_peer = LucidRotary(dim=D, use_xpos=True, xpos_scale_base=512).rotate_queries_and_keys(q, k)
    q_ours, k_ours = apply_xpos(q, k, torch.arange(T), torch.arange(T), scale_base=512)
    assert torch.allclose(q_ours @ k_ours.transpose(-1, -2), q_peer @ k_peer.transpose(-1, -2), atol=1e-3, rtol=1e-4)


def test_xpos_matches_x_transformers():
    from x_transformers.x_transformers import RotaryEmbedding as XRotary
    from x_transformers.x_transformers import apply_rotary_pos_emb

    q, k = randn(1, H, T, D, seed=15), randn(1, H, T, D, seed=16)
    freqs, scale = XRotary(D, use_xpos=True, scale_base=512)(torch.arange(T))
    q_peer, k_peer = apply_rotary_pos_emb(q, freqs, scale), apply_rotary_pos_emb(k, freqs, scale**-1)
    q_ours, k_ours = apply_xpos(q, k, torch.arange(T), torch.arange(T), scale_base=512)
    assert torch.allclose(q_ours @ k_ours.transpose(-1, -2), q_peer @ k_peer.transpose(-1, -2), atol=1e-3, rtol=1e-4)
