"""Claims of chapter 3 that cut across families: what "relative" means, NoPE, and the cost of a bias."""

from __future__ import annotations

import torch

from peprep.encodings.alibi import alibi_bias
from peprep.encodings.attention import attention_weights, scaled_dot_product_attention
from peprep.encodings.fire import fire_normalised_distance
from peprep.encodings.kerple import kerple_log_bias, kerple_power_bias
from peprep.encodings.sandwich import sandwich_bias
from peprep.encodings.t5_bias import t5_position_bias

T = 24
TOL = dict(rtol=0, atol=1e-12)


def is_toeplitz(bias: torch.Tensor, lower_only: bool = False) -> bool:
    """True when every diagonal (offset j − i) of every head is constant."""
    t = bias.shape[-1]
    for d in range(-(t - 1), 1 if lower_only else t):
        diag = torch.diagonal(bias, offset=d, dim1=-2, dim2=-1)
        if not torch.allclose(diag, diag[..., :1].expand_as(diag), rtol=0, atol=1e-12):
            return False
    return True


def test_scalar_biases_depend_only_on_offset():
    # T5, ALiBi, KERPLE and Sandwich are functions of i − j alone (Toeplitz per head).
    one = torch.ones(4, dtype=torch.float64)
    assert is_toeplitz(t5_position_bias(torch.randn(32, 4, dtype=torch.float64), T))
    assert is_toeplitz(alibi_bias(4, T))
    assert is_toeplitz(kerple_power_bias(one, 1.5 * one, T), lower_only=True)
    assert is_toeplitz(kerple_log_bias(one, 0.5 * one, T), lower_only=True)
    assert is_toeplitz(sandwich_bias(4, T))


def test_fire_is_not_shift_invariant_beyond_threshold():
    # FIRE divides by ψ(max(L, i)): below the threshold it is a function of i − j, beyond it the
    # same distance maps to a smaller input as the query moves on — deliberately not Toeplitz.
    short = fire_normalised_distance(T, threshold=512.0)[None]
    assert is_toeplitz(short, lower_only=True)
    long = fire_normalised_distance(T, threshold=4.0)[None]
    assert not is_toeplitz(long, lower_only=True)


def test_nope_causal_attention_recovers_position():
    # NoPE: with equal logits (q = 0) a causal head averages over the prefix. If only the first token
    # (BOS) has value 1, query t reads 1/(t + 1): an absolute position, from the causal mask alone.
    t = 10
    q = torch.zeros(1, 1, t, 4, dtype=torch.float64)
    k = torch.randn(1, 1, t, 4, dtype=torch.float64)
    v = torch.zeros(1, 1, t, 1, dtype=torch.float64)
    v[..., 0, 0] = 1.0
    out = scaled_dot_product_attention(q, k, v, causal=True)[0, 0, :, 0]
    torch.testing.assert_close(out, 1.0 / torch.arange(1, t + 1, dtype=torch.float64), **TOL)
    # Without the mask every token reads the same 1/T: bidirectional NoPE has no positions.
    full = scaled_dot_product_attention(q, k, v)[0, 0, :, 0]
    torch.testing.assert_close(full, torch.full((t,), 1.0 / t, dtype=torch.float64), **TOL)


def test_bidirectional_nope_is_permutation_equivariant():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 8, 4, generator=g, dtype=torch.float64) for _ in range(3))
    perm = torch.randperm(8, generator=g)
    out = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(scaled_dot_product_attention(q[:, :, perm], k[:, :, perm], v[:, :, perm]),
                               out[:, :, perm], **TOL)


def test_dense_bias_memory():
    # A materialised (H, T, T) bias: 32 heads × 8192² in bf16 is 4 GiB per sequence — the reason
    # fused kernels compute ALiBi from the slopes instead of reading a tensor.
    heads, t, bf16 = 32, 8192, 2
    assert heads * t * t * bf16 == 4 * 2**30
    assert alibi_bias(32, 16).numel() == 32 * 16 * 16


def test_relative_bias_is_translation_invariant():
    # The same six tokens at positions 0 … 5 or at 100 … 105 (the end of a longer context, keys
    # before 100 dropped) get the same bias and hence the same attention: nothing absolute is encoded.
    g = torch.Generator().manual_seed(1)
    q, k = (torch.randn(1, 4, 6, 8, generator=g, dtype=torch.float64) for _ in range(2))
    table = torch.randn(32, 4, generator=g, dtype=torch.float64)
    for at_start, shifted in ((alibi_bias(4, 6), alibi_bias(4, 6, 106)[..., 100:]),
                              (t5_position_bias(table, 6), t5_position_bias(table, 6, 106)[..., 100:])):
        assert torch.equal(at_start, shifted)
        torch.testing.assert_close(attention_weights(q, k, causal=True, bias=shifted),
                                   attention_weights(q, k, causal=True, bias=at_start), **TOL)
