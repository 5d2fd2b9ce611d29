"""peprep.encodings.attention against PyTorch's own attention, and its conventions pinned down."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from peprep.encodings.attention import (
    MultiHeadSelfAttention,
    TransformerBlock,
    attention_weights,
    causal_mask,
    merge_heads,
    multi_head_self_attention,
    scaled_dot_product_attention,
    split_heads,
)

B, H, T, D = 2, 3, 7, 5


def qkv(t_q: int = T, t_k: int = T, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(B, H, t, D, generator=g, dtype=torch.float64) for t in (t_q, t_k, t_k))


@pytest.mark.parametrize("causal", [False, True])
def test_matches_torch_sdpa(causal):
    q, k, v = qkv()
    ours = scaled_dot_product_attention(q, k, v, causal=causal)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=causal))


def test_additive_bias_matches_torch_float_mask():
    # torch adds a float attn_mask to the logits: the same slot our `bias` fills.
    q, k, v = qkv()
    bias = torch.randn(H, T, T, dtype=torch.float64)
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k, v, bias=bias), F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    )


def test_causal_and_bias_together_match_torch_with_merged_mask():
    q, k, v = qkv()
    bias = torch.randn(T, T, dtype=torch.float64)
    merged = bias.masked_fill(~causal_mask(T, T), float("-inf"))
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k, v, causal=True, bias=bias),
        F.scaled_dot_product_attention(q, k, v, attn_mask=merged),
    )


def test_causal_mask_is_lower_triangle_for_square_and_end_aligned_for_cache():
    assert torch.equal(causal_mask(4, 4), torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]).bool())
    # Decoding with a KV cache: the single new query is the last position and sees every key.
    assert causal_mask(1, 6).all()
    # Two new queries at absolute positions 4 and 5 of 6.
    assert torch.equal(causal_mask(2, 6), torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]]).bool())
    with pytest.raises(ValueError):
        causal_mask(3, 2)


def test_weights_are_a_distribution_and_masked_entries_are_exactly_zero():
    q, k, _ = qkv()
    a = attention_weights(q, k, causal=True)
    torch.testing.assert_close(a.sum(-1), torch.ones(B, H, T, dtype=torch.float64))
    assert (a.masked_select(~causal_mask(T, T)) == 0).all()


def test_cached_decoding_equals_full_causal_pass():
    # The last query with the whole prefix as keys gives the last row of the full causal pass.
    q, k, v = qkv()
    full = scaled_dot_product_attention(q, k, v, causal=True)
    step = scaled_dot_product_attention(q[:, :, -1:], k, v, causal=True)
    torch.testing.assert_close(step, full[:, :, -1:])


def test_split_and_merge_heads_are_inverse_and_heads_own_contiguous_channels():
    x = torch.arange(2 * 3 * 12, dtype=torch.float64).view(2, 3, 12)
    heads = split_heads(x, 4)
    assert heads.shape == (2, 4, 3, 3)
    assert torch.equal(heads[0, 1, 0], x[0, 0, 3:6])
    assert torch.equal(merge_heads(heads), x)
    with pytest.raises(ValueError):
        split_heads(x, 5)


def test_multi_head_matches_torch_multihead_attention():
    torch.manual_seed(0)
    c, h = 12, 4
    ref = torch.nn.MultiheadAttention(c, h, bias=False, batch_first=True).double()
    x = torch.randn(B, T, c, dtype=torch.float64)
    w_q, w_k, w_v = ref.in_proj_weight.detach().chunk(3)
    w_o = ref.out_proj.weight.detach()
    # torch stores (out, in) and computes x W^T; ours multiplies from the right, hence the .T.
    ours = multi_head_self_attention(x, w_q.T, w_k.T, w_v.T, w_o.T, h)
    expected, _ = ref(x, x, x, need_weights=False)
    torch.testing.assert_close(ours, expected)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)  # torch: True = not allowed
    ours_causal = multi_head_self_attention(x, w_q.T, w_k.T, w_v.T, w_o.T, h, causal=True)
    expected_causal, _ = ref(x, x, x, attn_mask=mask, need_weights=False)
    torch.testing.assert_close(ours_causal, expected_causal)


def test_module_is_the_pure_function():
    torch.manual_seed(0)
    m = MultiHeadSelfAttention(8, 2).double()
    x = torch.randn(B, T, 8, dtype=torch.float64)
    torch.testing.assert_close(m(x, causal=True), multi_head_self_attention(x, m.w_q, m.w_k, m.w_v, m.w_o, 2, causal=True))


def test_block_keeps_shape_and_rejects_bad_width():
    block = TransformerBlock(8, 2)
    assert block(torch.randn(B, T, 8)).shape == (B, T, 8)
    with pytest.raises(ValueError):
        MultiHeadSelfAttention(10, 3)
