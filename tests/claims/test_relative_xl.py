"""Claims of chapter 3 about Transformer-XL (peprep.encodings.transformer_xl).

float64, fixed seeds; "equal" is within 1e-12.
"""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.attention import causal_mask
from peprep.encodings.transformer_xl import (
    absolute_logit_terms,
    rel_shift,
    sinusoid_relative,
    xl_attention,
    xl_logits,
    xl_terms_explicit,
)

B, H, T, D = 2, 3, 7, 8
TOL = dict(rtol=0, atol=1e-12)


def params(mem: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, H, T, D, generator=g, dtype=torch.float64)
    k, v = (torch.randn(B, H, T + mem, D, generator=g, dtype=torch.float64) for _ in range(2))
    w_kr = torch.randn(H, 2 * D, D, generator=g, dtype=torch.float64) / math.sqrt(2 * D)  # W_{k,R} per head
    r = torch.einsum("tc,hcd->htd", sinusoid_relative(T + mem, 2 * D), w_kr)  # (H, T_k, D) = R W_{k,R}
    u, v_bias = (torch.randn(H, D, generator=g, dtype=torch.float64) for _ in range(2))
    return q, k, v, r, u, v_bias


def test_absolute_logit_is_four_terms():
    # (x_i + p_i) W_q W_k^T (x_j + p_j)^T = (a) + (b) + (c) + (d): the starting point of Transformer-XL.
    g = torch.Generator().manual_seed(1)
    x, p = (torch.randn(T, 16, generator=g, dtype=torch.float64) for _ in range(2))
    w_q, w_k = (torch.randn(16, D, generator=g, dtype=torch.float64) for _ in range(2))
    full = ((x + p) @ w_q) @ ((x + p) @ w_k).T
    torch.testing.assert_close(sum(absolute_logit_terms(x, p, w_q, w_k).values()), full, **TOL)


@pytest.mark.parametrize("mem", [0, 4])
def test_rel_shift_equals_explicit_terms(mem):
    # AC + rel_shift(BD) == q·k + q·r_{i−j} + u·k + v·r_{i−j}, indexed directly, wherever j ≤ i + m.
    q, k, _, r, u, v_bias = params(mem)
    valid = causal_mask(T, T + mem)
    explicit = sum(xl_terms_explicit(q, k, r, u, v_bias).values()) / math.sqrt(D)
    torch.testing.assert_close(xl_logits(q, k, r, u, v_bias)[..., valid], explicit[..., valid], **TOL)


def test_rel_shift_garbage_above_diagonal():
    # Above the causal diagonal rel_shift returns padding or the next row's entries — never used,
    # because the decoder masks those keys.
    x = torch.arange(1.0, 13.0).reshape(3, 4)  # T_q = 3, T_k = 4 (m = 1)
    out = rel_shift(x)
    for i in range(3):
        for j in range(i + 2):  # j ≤ i + m
            assert out[i, j] == x[i, 3 - (i + 1 - j)]  # column for distance (i + m) − j
    assert out[0, 2] == 0 and out[0, 3] == x[1, 0]


def test_attention_uses_rel_shift_logits():
    q, k, v, r, u, v_bias = params(3)
    logits = xl_logits(q, k, r, u, v_bias).masked_fill(~causal_mask(T, T + 3), float("-inf"))
    torch.testing.assert_close(xl_attention(q, k, v, r, u, v_bias), logits.softmax(-1) @ v, **TOL)


def test_logits_invariant_to_absolute_shift():
    # The same tokens seen as "memory + current segment" or as a fresh segment get the same logits for
    # the pairs they share: nothing depends on absolute position, so cached states can be reused.
    q, k, _, r_full, u, v_bias = params(mem=5, seed=2)
    full = xl_logits(q, k, r_full, u, v_bias)  # keys 0 … 11, queries at 5 … 11
    # Drop the two oldest memory slots: the keys shift by 2 in absolute position.
    r_short = r_full[:, 2:]  # rows for distances T_k − 3 … 0
    short = xl_logits(q, k[:, :, 2:], r_short, u, v_bias)
    valid = causal_mask(T, T + 3)
    torch.testing.assert_close(short[..., valid], full[..., 2:][..., valid], **TOL)


def test_sinusoid_layout_is_sin_then_cos_descending():
    # The official R: positions T_k − 1 … 0, [sin | cos] halves, ω_t = 10000^(−2t/d).
    r = sinusoid_relative(5, 6)
    assert torch.equal(r[-1], torch.tensor([0.0, 0, 0, 1, 1, 1], dtype=torch.float64))  # distance 0
    omega = 10000 ** (-torch.arange(0, 6, 2, dtype=torch.float64) / 6)
    torch.testing.assert_close(r[0], torch.cat([(4 * omega).sin(), (4 * omega).cos()]), **TOL)
