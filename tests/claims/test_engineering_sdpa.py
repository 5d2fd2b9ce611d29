"""Claims of chapter 7 (engineering) about fused attention entry points: PyTorch SDPA (checked on torch 2.13 CPU) and
FlashAttention's documented semantics (checked as formulas: no GPU here).

Float32 inputs; tolerance 1e-5 on O(1) outputs.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.bias import causal_lower_right, causal_upper_left

from peprep.encodings.alibi import alibi_bias, alibi_slopes
from peprep.encodings.attention import attention_weights, causal_mask, scaled_dot_product_attention
from peprep.encodings.position_ids import padded_causal_mask

TOL = 1e-5


def qkv(t_q: int, t_k: int, h: int = 2, d: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, h, t_q, d, generator=g), torch.randn(1, h, t_k, d, generator=g), torch.randn(1, h, t_k, d, generator=g)


def test_bool_mask_means_attend_and_float_mask_is_added():
    """attn_mask True = may attend; a float mask is added to q·k/√D. A bool mask equals the float mask with
    0 where True and −inf where False, and a float bias equals peprep's additive `bias`."""
    q, k, v = qkv(4, 4)
    allowed = torch.rand(4, 4, generator=torch.Generator().manual_seed(1)) > 0.3
    allowed.fill_diagonal_(True)
    as_float = torch.zeros(4, 4).masked_fill(~allowed, float("-inf"))
    assert torch.allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=allowed),
                          F.scaled_dot_product_attention(q, k, v, attn_mask=as_float), atol=TOL)
    bias = alibi_bias(2, 4).float()
    assert torch.allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=bias),
                          scaled_dot_product_attention(q, k, v, bias=bias), atol=TOL)


def test_is_causal_is_top_left_aligned():
    """is_causal=True builds tril(ones(L, S)) — aligned to the top-left corner. With one query and a cache of
    5 keys (decoding) the query sees only key 0, so the output is v[0]: wrong for a KV cache."""
    q, k, v = qkv(1, 5)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(out[..., 0, :], v[..., 0, :], atol=TOL)
    assert torch.equal(causal_upper_left(1, 5)._materialize(), torch.tensor([[True, False, False, False, False]]))


def test_lower_right_causal_bias_is_the_kv_cache_mask():
    """torch.nn.attention.bias.causal_lower_right(L, S) is aligned to the bottom-right corner — the
    query i sits at position i + S − L — which is peprep's `causal_mask` and what a KV cache needs."""
    for t_q, t_k in [(1, 5), (3, 7), (4, 4)]:
        assert torch.equal(causal_lower_right(t_q, t_k)._materialize(), causal_mask(t_q, t_k))
        q, k, v = qkv(t_q, t_k)
        assert torch.allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(t_q, t_k)),
                              scaled_dot_product_attention(q, k, v, causal=True), atol=TOL)


def test_mask_and_is_causal_together_in_torch_2_13():
    """The documented reference code asserts attn_mask is None when is_causal is set; torch 2.13 on CPU
    accepts both and applies both (the causal triangle AND the mask). Do not rely on either: pass one mask."""
    q, k, v = qkv(3, 3)
    keep = torch.tensor([[True, True, True], [True, True, True], [False, True, True]])
    both = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, is_causal=True)
    assert torch.allclose(both, F.scaled_dot_product_attention(q, k, v, attn_mask=keep & causal_mask(3, 3)), atol=TOL)


def test_fully_masked_rows_give_zeros_in_sdpa_and_nan_in_a_plain_softmax():
    """A query row with no allowed key (the pad queries of a left-padded batch): SDPA returns 0 there (its
    safe softmax, PyTorch PR #133882); softmax over an all −inf row is NaN. Keeping each pad query's
    own key (`padded_causal_mask`) avoids the empty row altogether."""
    q, k, v = qkv(3, 3)
    empty_first_row = torch.tensor([[False, False, False], [True, True, False], [True, True, True]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=empty_first_row)
    assert torch.equal(out[..., 0, :], torch.zeros_like(out[..., 0, :]))
    plain = attention_weights(q, k, bias=torch.zeros(3, 3).masked_fill(~empty_first_row, float("-inf")))
    assert torch.isnan(plain[..., 0, :]).all()
    mask = padded_causal_mask(torch.tensor([[0, 0, 1, 1]]))
    assert mask.any(dim=-1).all()  # every row keeps at least one key
    assert torch.equal(mask[0, 2:], torch.tensor([[False, False, True, False], [False, False, True, True]]))


def test_a_nan_in_a_masked_value_still_reaches_real_tokens():
    """Masking a key gives it weight exactly 0, but 0 × NaN = NaN: a NaN left in a pad position's hidden state
    (from an all −inf row in the previous layer) turns every real token's output into NaN in the next layer."""
    q, k, v = qkv(3, 3)
    v = v.clone()
    v[..., 0, :] = float("nan")  # position 0 is a pad whose previous-layer output was NaN
    keep = torch.tensor([[True, False, False], [False, True, False], [False, True, True]])  # real tokens skip key 0
    weights = attention_weights(q, k, bias=torch.zeros(3, 3).masked_fill(~keep, float("-inf")))
    assert weights[..., 1:, 0].eq(0).all()
    assert torch.isnan(weights @ v)[..., 1:, :].all()


@pytest.mark.filterwarnings("ignore::UserWarning")  # the refused 3-D mask makes torch explain why
def test_cpu_flash_backend_accepts_a_float_mask_of_2d_or_4d_shape():
    """On CPU (torch 2.13) the FLASH_ATTENTION backend runs with an arbitrary float mask shaped (L, S) or
    (B|1, H|1, L, S), but not (H, L, S); the CUDA flash kernel refuses any attn_mask (sdp_utils.cpp
    check_for_attn_mask) — see the chapter."""
    q, k, v = qkv(6, 6)
    bias = alibi_bias(2, 6).float()  # (H, T, T)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias[None])
        with pytest.raises(RuntimeError, match="No available kernel"):
            F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    assert torch.allclose(out, scaled_dot_product_attention(q, k, v, bias=bias), atol=TOL)


def flash_alibi_bias(slopes: torch.Tensor, t_q: int, t_k: int) -> torch.Tensor:
    """FlashAttention's documented bias: −slope · |i + seqlen_k − seqlen_q − j| for query i, key j."""
    i = torch.arange(t_q)[:, None]
    j = torch.arange(t_k)[None, :]
    return -slopes[:, None, None] * (i + t_k - t_q - j).abs()


def test_flash_attention_alibi_formula_matches_alibi_under_the_causal_mask():
    """With causal=True (bottom-right) FlashAttention's symmetric bias equals the paper's −m(i − j) on every
    kept entry, with or without a cache; without the mask it is the symmetric encoder form."""
    slopes = alibi_slopes(8)
    for t_q, t_k in [(5, 5), (2, 9)]:
        keep = causal_mask(t_q, t_k)
        flash = flash_alibi_bias(slopes, t_q, t_k)
        ours = alibi_bias(8, t_q, t_k)
        assert torch.allclose(flash[:, keep], ours[:, keep])
        assert torch.allclose(flash, alibi_bias(8, t_q, t_k, form="symmetric"))


def test_flash_attention_window_is_a_band_aligned_bottom_right():
    """window_size=(w, 0) with causal keeps keys j in [i + S − L − w, i + S − L]: a band of w + 1 keys ending
    at the query's own position (Mistral-style sliding window)."""
    t_q, t_k, w = 3, 8, 2
    i = torch.arange(t_q)[:, None] + t_k - t_q
    j = torch.arange(t_k)[None, :]
    band = (j >= i - w) & (j <= i)
    assert torch.equal(band.sum(-1), torch.full((t_q,), w + 1))
    assert torch.equal(band & causal_mask(t_q, t_k), band)
