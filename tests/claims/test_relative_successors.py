"""Claims of chapter 3 about ALiBi's successors: KERPLE, Sandwich, FIRE, CoPE
(peprep.encodings.kerple, .sandwich, .fire, .cope)."""

from __future__ import annotations

import torch

from peprep.encodings.alibi import alibi_bias, alibi_slopes
from peprep.encodings.attention import attention_weights, causal_mask
from peprep.encodings.cope import cope_bias, cope_positions
from peprep.encodings.fire import FIREBias, fire_normalised_distance, psi
from peprep.encodings.kerple import kerple_log_bias, kerple_power_bias
from peprep.encodings.sandwich import sandwich_bias

TOL = dict(rtol=0, atol=1e-12)


def test_kerple_power_with_exponent_one_is_alibi():
    # The official code clamps r_1 ≥ 0.01, which would lift ALiBi's 2^−7 and 2^−8; compare the rest.
    m = alibi_slopes(8)[:6]
    power = kerple_power_bias(m, torch.ones(6, dtype=torch.float64), 12)
    lower = causal_mask(12, 12)
    torch.testing.assert_close(power[:, lower], alibi_bias(8, 12)[:6, lower], **TOL)


def test_kerple_log_decays_sublinearly():
    # −r1·log(1 + r2·n) is concave in n: each further step costs less than the one before, so far
    # tokens are penalised far less than ALiBi's straight line through the same first step.
    r1, r2 = torch.tensor([1.0], dtype=torch.float64), torch.tensor([0.5], dtype=torch.float64)
    b = kerple_log_bias(r1, r2, 200)[0, -1].flip(0)  # n = 0 … 199 for the last query
    steps = b[:-1] - b[1:]
    assert (steps > 0).all() and (steps[1:] < steps[:-1]).all()
    assert b[-1] > steps[0] * -199 * 0.1  # ten times milder than the line at n = 199


def test_kernel_offset_is_absorbed():
    # KERPLE: a CPD kernel plus a constant is PD; the constant changes nothing after softmax.
    g = torch.Generator().manual_seed(0)
    q, k = (torch.randn(1, 2, 9, 8, generator=g, dtype=torch.float64) for _ in range(2))
    b = kerple_log_bias(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0.3, 1.0], dtype=torch.float64), 9)
    torch.testing.assert_close(attention_weights(q, k, causal=True, bias=b + 7.5),
                               attention_weights(q, k, causal=True, bias=b), **TOL)


def test_sandwich_is_shifted_sinusoid_product():
    # p_i·p_j of sinusoids is Σ_t cos((i − j) ω_t): a function of i − j; shifted by d̄/2 it is 0 on
    # the diagonal and ≤ 0 elsewhere; head h is divided by 8h/H.
    d_bar, h = 64, 4
    b = sandwich_bias(h, 40, d_bar=d_bar)
    i, j = 30, 11
    omega = 10000 ** (-2.0 * torch.arange(1, d_bar // 2 + 1, dtype=torch.float64) / d_bar)
    p = lambda x: torch.cat([torch.sin(x * omega), torch.cos(x * omega)])  # noqa: E731
    torch.testing.assert_close(b[0, i, j], (p(i) @ p(j) - d_bar / 2) / (8 * 1 / h), **TOL)
    assert torch.diagonal(b, dim1=-2, dim2=-1).abs().max() < 1e-12 and (b <= 1e-12).all()
    for d in range(-39, 40):
        diag = torch.diagonal(b, offset=d, dim1=-2, dim2=-1)
        torch.testing.assert_close(diag, diag[:, :1].expand_as(diag), **TOL)
    torch.testing.assert_close(b[1] * 2, b[0], **TOL)  # head 2 is half as steep as head 1


def test_fire_inputs_are_normalised():
    # Progressive interpolation: ψ(i − j)/ψ(max(L, i)) ∈ [0, 1] at any length; for i ≤ L the
    # denominator is the constant ψ(L), beyond it the query's own ψ(i).
    for t in (64, 4096):
        x = fire_normalised_distance(t, threshold=512.0)
        assert x.min() >= 0 and x.max() <= 1
    x = fire_normalised_distance(1000, threshold=512.0, eps=0)
    assert torch.isclose(x[300, 0], psi(300.0) / psi(512.0))
    assert torch.isclose(x[900, 0], psi(900.0) / psi(900.0))  # the first token of a long query: 1
    bias = FIREBias(4)(16)
    assert bias.shape == (4, 16, 16)


def test_cope_counts_tokens_when_gates_open():
    # All gates 1: p_ij = i − j + 1 on and below the diagonal, a relative token count.
    gates = torch.ones(6, 6).tril()
    assert torch.equal(cope_positions(gates)[5], torch.tensor([6.0, 5, 4, 3, 2, 1]))
    assert torch.equal(cope_positions(gates)[3, :4], torch.tensor([4.0, 3, 2, 1]))


def test_cope_counts_only_gated_tokens():
    # Gates firing only on "sentence ends" (tokens 2 and 5) make p count sentences, not tokens.
    gates = torch.zeros(8, 8)
    gates[7, [2, 5]] = 1.0
    assert cope_positions(gates)[7].tolist() == [2, 2, 2, 1, 1, 1, 0, 0]
    # Interpolation between integer embeddings: p = 1.25 mixes e[1] and e[2] by 0.75 / 0.25.
    g = torch.Generator().manual_seed(0)
    q = torch.randn(1, 1, 2, 4, generator=g, dtype=torch.float64)
    e = torch.randn(5, 4, generator=g, dtype=torch.float64)
    logits = torch.tensor([[0.0, float("-inf")], [torch.logit(torch.tensor(0.25)).item(), 100.0]], dtype=torch.float64)
    out = cope_bias(q, logits[None, None], e)
    p = torch.sigmoid(logits[1]).flip(0).cumsum(0).flip(0)[0]  # ≈ 1.25
    expected = (p - 1) * (q[0, 0, 1] @ e[2]) + (2 - p) * (q[0, 0, 1] @ e[1])
    torch.testing.assert_close(out[0, 0, 1, 0], expected, **TOL)
