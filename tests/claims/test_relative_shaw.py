"""Claims of chapter 3 about Shaw et al. 2018 and Music Transformer's skewing (peprep.encodings.shaw).

float64 with fixed seeds: "equal" means within 1e-12, "different" means far beyond rounding.
"""

from __future__ import annotations

import torch

from peprep.encodings.shaw import (
    relative_index,
    relative_to_absolute,
    shaw_attention,
    shaw_attention_naive,
    shaw_logits_naive,
    shaw_logits_skewed,
    skew,
)

B, H, T, D, CLIP = 2, 3, 9, 8, 3
TOL = dict(rtol=0, atol=1e-12)


def tensors(seed: int = 0, t: int = T):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, H, t, D, generator=g, dtype=torch.float64) for _ in range(3))
    w_k, w_v = (torch.randn(2 * CLIP + 1, D, generator=g, dtype=torch.float64) for _ in range(2))
    return q, k, v, w_k, w_v


def test_skewed_equals_naive_causal():
    # Music Transformer: skew(Q E_r^T) gives q_i·a^K_ij on and below the diagonal, in O(T·D) memory.
    q, k, _, w_k, _ = tensors()
    lower = torch.ones(T, T, dtype=torch.bool).tril()
    naive, skewed = shaw_logits_naive(q, k, w_k, CLIP), shaw_logits_skewed(q, k, w_k, CLIP, causal=True)
    torch.testing.assert_close(skewed[..., lower], naive[..., lower], **TOL)


def test_relative_to_absolute_equals_naive_bidirectional():
    # With 2T−1 relative rows the pad-and-reshape trick is exact everywhere (encoder attention).
    q, k, _, w_k, _ = tensors(1)
    torch.testing.assert_close(shaw_logits_skewed(q, k, w_k, CLIP, causal=False), shaw_logits_naive(q, k, w_k, CLIP), **TOL)


def test_skew_upper_triangle_is_garbage():
    # Above the diagonal the skewed matrix holds leftovers of the next row, not q_i·a^K_ij: only a
    # causal mask makes the trick correct for decoders.
    rel = torch.arange(16.0).reshape(4, 4)  # row i, column c = distance c − 3
    out = skew(rel)
    for i in range(4):
        for j in range(i + 1):
            assert out[i, j] == rel[i, j - i + 3]
    assert out[0, 1] == 0  # just right of the diagonal: the padding column
    assert out[0, 2] == rel[1, 0]  # further right: entries of the next row


def test_relative_to_absolute_index_map():
    rel = torch.arange(5 * 9.0).reshape(5, 9)
    out = relative_to_absolute(rel)
    expected = torch.stack([rel[i, torch.arange(5) - i + 4] for i in range(5)])
    assert torch.equal(out, expected)


def test_clipping_shares_far_vectors():
    # Distances beyond ±k all use the edge vectors w[0] (−k) and w[2k] (+k): 2k + 1 vectors in total.
    idx = relative_index(12, 12, CLIP)
    assert idx.min() == 0 and idx.max() == 2 * CLIP
    assert idx[11, 0] == idx[11, 7] == 0  # 11 and 4 keys back: both clipped to −3
    assert idx[0, 11] == idx[0, 5] == 2 * CLIP
    assert torch.equal(idx[3, 1:5], torch.tensor([1, 2, 3, 4]))  # inside the window: j − i + k


def test_key_term_depends_on_query_content():
    # a^K is a vector: q_i·a^K_ij changes when the query changes even at a fixed distance, unlike
    # a scalar bias b(j − i) (T5, ALiBi).
    q, k, _, w_k, _ = tensors(2)
    zero_keys = torch.zeros_like(k)
    pos_only = shaw_logits_naive(q, zero_keys, w_k, CLIP)  # (B, H, T, T): only q_i·a^K_ij / √D
    d1 = torch.diagonal(pos_only, offset=-1, dim1=-2, dim2=-1)  # every pair at distance −1
    assert d1.std() > 0.1  # a scalar bias would make this row constant


def test_value_term_efficient_equals_naive():
    # Σ_j α_ij a^V_ij computed by summing α into 2k + 1 distance buckets equals the (T, T, D) form.
    q, k, v, w_k, w_v = tensors(3)
    for causal in (False, True):
        torch.testing.assert_close(shaw_attention(q, k, v, w_k, w_v, CLIP, causal=causal),
                                   shaw_attention_naive(q, k, v, w_k, w_v, CLIP, causal=causal), **TOL)


def test_value_term_changes_outputs():
    # a^V carries position into the outputs themselves, not only into the weights.
    q, k, v, w_k, w_v = tensors(4)
    with_v = shaw_attention(q, k, v, w_k, w_v, CLIP)
    without_v = shaw_attention(q, k, v, w_k, torch.zeros_like(w_v), CLIP)
    assert (with_v - without_v).abs().max() > 0.1


def test_music_transformer_memory_numbers():
    # L = 2048, D = 512, 8 heads (D_h = 64), float32: Shaw's (L, L, D) relative tensor vs the skewed
    # (L, D) one. The paper quotes 8.5 GB -> 4.2 MB per layer and 1.1 GB -> 0.52 MB per head.
    L, D_model, D_head, fp32 = 2048, 512, 64, 4
    assert L * L * D_model * fp32 == 2**33  # 8 GiB = 8.59e9 bytes
    assert L * D_model * fp32 == 2**22  # 4 MiB = 4.19e6 bytes
    assert L * L * D_head * fp32 == 2**30  # 1 GiB = 1.07e9 bytes
    assert L * D_head * fp32 == 524_288  # 0.52e6 bytes
    assert (L * L * D_model) // (L * D_model) == L  # the saving is exactly a factor L
