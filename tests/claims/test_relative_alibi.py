"""Claims of chapter 3 about ALiBi (peprep.encodings.alibi), and the softmax shift-invariance it relies on."""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.alibi import alibi_attention, alibi_bias, alibi_slopes
from peprep.encodings.attention import attention_weights, causal_mask

TOL = dict(rtol=0, atol=1e-12)


def test_slopes_for_8_heads():
    assert alibi_slopes(8).tolist() == [1 / 2**h for h in range(1, 9)]


def test_slopes_for_16_heads():
    # 16 heads: the 8-head slopes with their geometric means in between, 2^−0.5, 2^−1, …, 2^−8.
    assert torch.equal(alibi_slopes(16), 2.0 ** (-0.5 * torch.arange(1, 17, dtype=torch.float64)))
    torch.testing.assert_close(alibi_slopes(16)[1::2], alibi_slopes(8), **TOL)


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32, 64])
def test_slopes_are_geometric_for_powers_of_two(n):
    s = alibi_slopes(n)
    start = 2 ** (-8 / n)
    torch.testing.assert_close(s, start ** torch.arange(1, n + 1, dtype=torch.float64), **TOL)
    torch.testing.assert_close(s[1:] / s[:-1], torch.full((n - 1,), start, dtype=torch.float64), **TOL)


def test_slopes_for_12_heads_interleave():
    # 12 = 8 + 4: the 8-head slopes, then the first 4 of the 16-head slopes at even 0-based indices
    # (2^−0.5, 2^−1.5, 2^−2.5, 2^−3.5) — the ones that fall between the 8-head slopes.
    expected = [2.0**-h for h in range(1, 9)] + [2.0**-h for h in (0.5, 1.5, 2.5, 3.5)]
    torch.testing.assert_close(alibi_slopes(12), torch.tensor(expected, dtype=torch.float64), **TOL)
    assert [round(x, 4) for x in alibi_slopes(12).tolist()[8:]] == [0.7071, 0.3536, 0.1768, 0.0884]


def test_slopes_for_6_heads():
    # 6 = 4 + 2: 2^−2, 2^−4, 2^−6, 2^−8, then 2^−1, 2^−3 from the 8-head sequence.
    assert alibi_slopes(6).tolist() == [2.0**-2, 2.0**-4, 2.0**-6, 2.0**-8, 2.0**-1, 2.0**-3]


def test_zero_based_formula_is_a_different_sequence():
    # A common mistake, m_h = 2^(−8h/n) with h = 0 … n−1, gives a first slope of 1 (and never 2^−8).
    wrong = 2.0 ** (-8.0 * torch.arange(0, 8) / 8)
    assert wrong[0] == 1.0 and not torch.allclose(wrong.double(), alibi_slopes(8))


def test_softmax_invariant_to_per_row_constant():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 7, generator=g, dtype=torch.float64)
    row_shift = torch.randn(3, 5, 1, generator=g, dtype=torch.float64) * 100
    torch.testing.assert_close((logits + row_shift).softmax(-1), logits.softmax(-1), **TOL)
    column_shift = torch.randn(3, 1, 7, generator=g, dtype=torch.float64)
    assert ((logits + column_shift).softmax(-1) - logits.softmax(-1)).abs().max() > 1e-2


def qk(t=10, h=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(2, h, t, 16, generator=g, dtype=torch.float64) for _ in range(2))


def test_row_constant_forms_equal_under_causal_mask():
    # −m(i − j), +m j (official code, Bloom) and +m(j − T + 1) (MPT) differ by −m i or a constant per
    # row, so under a causal mask they give identical attention.
    q, k = qk()
    ref = attention_weights(q, k, causal=True, bias=alibi_bias(8, 10))
    for form in ("row_constant", "mpt"):
        torch.testing.assert_close(attention_weights(q, k, causal=True, bias=alibi_bias(8, 10, form=form)), ref, **TOL)


def test_row_constant_form_is_wrong_without_causal_mask():
    # The forms still differ only by a constant per row, so without the mask they still agree with
    # each other — but all of them *reward* keys to the right of the query: none is a distance
    # penalty. Bidirectional attention needs the symmetric −m|i − j|.
    q, k = qk(seed=1)
    sym = attention_weights(q, k, bias=alibi_bias(8, 10, form="symmetric"))
    row = attention_weights(q, k, bias=alibi_bias(8, 10, form="row_constant"))
    rel = attention_weights(q, k, bias=alibi_bias(8, 10))
    torch.testing.assert_close(row, rel, **TOL)
    assert (sym - row).abs().max() > 0.1
    assert (alibi_bias(8, 10)[:, 0, 1:] > 0).all()  # query 0: every key to its right gets a bonus
    b = alibi_bias(8, 10, form="symmetric")
    assert torch.equal(b, b.transpose(-2, -1)) and (b <= 0).all()


def test_bias_depends_only_on_offset():
    b = alibi_bias(4, 12)
    for d in range(-11, 12):
        diag = torch.diagonal(b, offset=d, dim1=-2, dim2=-1)
        assert (diag == diag[:, :1]).all()


def test_cache_rows_use_bottom_right_alignment():
    # With a KV cache the new query is the last position: its bias row is the last row of the full
    # bias — FlashAttention's −slope·|i + T_k − T_q − j|.
    full, step = alibi_bias(8, 30), alibi_bias(8, 1, 30)
    assert torch.equal(step[:, 0], full[:, -1])
    m = alibi_slopes(8)
    i, t_q, t_k = 0, 1, 30
    flash = -m[:, None] * (i + t_k - t_q - torch.arange(t_k)).abs()
    torch.testing.assert_close(step[:, 0], flash, **TOL)


def test_row_constant_form_loses_resolution_in_bfloat16():
    # +m j grows with the absolute position j; stored in bfloat16 (8 significant bits), neighbouring
    # keys far from the start round to the same value and the distance signal is gone. The relative
    # form −m(i − j) stays small near the diagonal, where it matters most.
    m = alibi_slopes(8)[0]  # 1/2
    j = torch.arange(2000, 2010, dtype=torch.float64)
    row_constant = (m * j).to(torch.bfloat16)
    assert row_constant.unique().numel() < j.numel() // 2
    relative = (-m * (2009 - j)).to(torch.bfloat16)
    assert relative.unique().numel() == j.numel()
    # 8 significant bits: in [512, 1024) neighbouring bfloat16 values are 4 apart.
    grid = torch.arange(512, 1024, dtype=torch.float64)
    assert (grid.to(torch.bfloat16).double().unique().diff() == 4).all()


def test_alibi_attention_is_causal_and_needs_no_input_encoding():
    q, k = qk(seed=2)
    v = torch.randn_like(q)
    out = alibi_attention(q, k, v)
    bias = alibi_bias(8, 10)
    logits = (q @ k.transpose(-2, -1) / math.sqrt(16) + bias).masked_fill(~causal_mask(10, 10), float("-inf"))
    torch.testing.assert_close(out, logits.softmax(-1) @ v, **TOL)
