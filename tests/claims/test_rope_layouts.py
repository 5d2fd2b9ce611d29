"""Claims about RoPE's two layouts (interleaved pairs vs halves) and converting a checkpoint between them.

The canonical layout of the content is interleaved, pairs (2i, 2i+1) (RoFormer, Meta's LLaMA code).
Hugging Face uses halves, pairs (i, i + D/2), and converts Meta's weights by permuting the rows of W_q
and W_k. Float64 throughout; tolerance 1e-10 on O(1) values.
"""

from __future__ import annotations

import torch

from peprep.encodings.attention import attention_weights, merge_heads
from peprep.encodings.rope import (
    angles,
    apply_rotary,
    cos_sin,
    half_from_interleaved_index,
    interleaved_from_half_index,
    inv_freq,
    permute_qk_weight,
)

F64 = torch.float64
TOL = 1e-10


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def rotate(x: torch.Tensor, positions: torch.Tensor, layout: str) -> torch.Tensor:
    cos, sin = cos_sin(angles(positions, inv_freq(x.shape[-1]), dtype=F64), layout)
    return apply_rotary(x, cos, sin, layout=layout)


def test_layouts_give_same_scores_after_permutation():
    """RoPE_half(P x) = P RoPE_interleaved(x) with P = half_from_interleaved_index, hence equal scores:
    (P q)^T (P k) = q^T k. Without the permutation the two layouts give different scores."""
    q, k = randn(2, 4, 50, 64, seed=1), randn(2, 4, 50, 64, seed=2)
    pos = torch.arange(50) * 3
    idx = half_from_interleaved_index(64)
    assert torch.allclose(rotate(q[..., idx], pos, "half"), rotate(q, pos, "interleaved")[..., idx], atol=TOL)
    s_inter = rotate(q, pos, "interleaved") @ rotate(k, pos, "interleaved").transpose(-1, -2)
    s_half = rotate(q[..., idx], pos, "half") @ rotate(k[..., idx], pos, "half").transpose(-1, -2)
    assert torch.allclose(s_inter, s_half, atol=1e-9)
    s_wrong = rotate(q, pos, "half") @ rotate(k, pos, "half").transpose(-1, -2)  # same weights, other layout
    assert (s_wrong - s_inter).abs().max() > 1.0


def test_permutation_round_trip():
    """The two index maps are inverse permutations; permuting weights there and back is the identity."""
    idx, inv = half_from_interleaved_index(128), interleaved_from_half_index(128)
    assert torch.equal(idx[inv], torch.arange(128)) and torch.equal(idx.sort().values, torch.arange(128))
    w = randn(8 * 128, 256, seed=3)
    assert torch.equal(permute_qk_weight(permute_qk_weight(w, 8), 8, to="interleaved"), w)


def test_weight_permutation_matches_convert_script():
    """permute_qk_weight(w, n_heads) is convert_llama_weights_to_hf.py's `permute`:
    view(n_heads, D/2, 2, C) -> transpose(1, 2) -> reshape, i.e. new row h·D/2 + j of a head = old row 2j + h."""
    n_heads, head_dim, c = 4, 16, 24
    w = randn(n_heads * head_dim, c, seed=4)
    oracle = w.view(n_heads, head_dim // 2, 2, c).transpose(1, 2).reshape(n_heads * head_dim, c)
    assert torch.equal(permute_qk_weight(w, n_heads), oracle)


def attention_layer(x, wq, wk, wv, wo, n_heads, n_kv_heads, layout):
    """A LLaMA attention layer (nn.Linear weights (out, in), GQA, causal) with RoPE in `layout`."""
    b, t, _ = x.shape
    pos = torch.arange(t)
    q = (x @ wq.T).view(b, t, n_heads, -1).transpose(1, 2)  # (B, H, T, D)
    k = (x @ wk.T).view(b, t, n_kv_heads, -1).transpose(1, 2)  # (B, H_kv, T, D)
    v = (x @ wv.T).view(b, t, n_kv_heads, -1).transpose(1, 2)
    q, k = rotate(q, pos, layout), rotate(k, pos, layout)
    rep = n_heads // n_kv_heads
    k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    return merge_heads(attention_weights(q, k, causal=True) @ v) @ wo.T


def test_converted_attention_equals_original():
    """Meta weights + interleaved RoPE == permuted W_q, W_k (W_k with the number of KV heads) + half RoPE;
    W_v and W_o are not touched. Checked on a GQA layer, 8 query heads, 2 KV heads, D = 16."""
    n_heads, n_kv, d, c = 8, 2, 16, 128
    x = randn(2, 11, c, seed=5)
    wq, wk, wv, wo = randn(n_heads * d, c, seed=6), randn(n_kv * d, c, seed=7), randn(n_kv * d, c, seed=8), randn(c, n_heads * d, seed=9)
    meta = attention_layer(x, wq, wk, wv, wo, n_heads, n_kv, "interleaved")
    hf = attention_layer(x, permute_qk_weight(wq, n_heads), permute_qk_weight(wk, n_kv), wv, wo, n_heads, n_kv, "half")
    assert torch.allclose(meta, hf, atol=1e-9)


def test_wrong_conversion_breaks_outputs():
    """What a broken conversion looks like: skipping the permutation, applying it twice, or permuting W_k with
    the number of query heads under GQA all change the layer's output by O(1)."""
    n_heads, n_kv, d, c = 8, 2, 16, 128
    x = randn(2, 11, c, seed=10)
    wq, wk, wv, wo = randn(n_heads * d, c, seed=11), randn(n_kv * d, c, seed=12), randn(n_kv * d, c, seed=13), randn(c, n_heads * d, seed=14)
    meta = attention_layer(x, wq, wk, wv, wo, n_heads, n_kv, "interleaved")
    pq, pk = permute_qk_weight(wq, n_heads), permute_qk_weight(wk, n_kv)
    broken = {
        "not permuted": attention_layer(x, wq, wk, wv, wo, n_heads, n_kv, "half"),
        "permuted twice": attention_layer(x, permute_qk_weight(pq, n_heads), permute_qk_weight(pk, n_kv), wv, wo, n_heads, n_kv, "half"),
        "W_k with query heads": attention_layer(x, pq, permute_qk_weight(wk, n_heads), wv, wo, n_heads, n_kv, "half"),
    }
    scale = meta.abs().mean()
    for name, out in broken.items():
        assert (out - meta).abs().mean() > 0.05 * scale, name
    # position 0 is the identity rotation, so the first token's output is unaffected by any of these mistakes:
    # a broken conversion can look fine on a one-token prompt
    for out in broken.values():
        assert torch.allclose(out[:, 0], meta[:, 0], atol=1e-9)
