"""Claims about RoPE's "long-term decay" (RoFormer §3.4.3) — what it states and what it does not.

RoFormer eq. (35)-(37): with h_i = q_pair_i · conj(k_pair_i) and S_j = Σ_{i<j} e^{i(m-n)θ_i},
    |Σ_i h_i e^{i(m-n)θ_i}| <= (max_i |h_{i+1} - h_i|) · Σ_{j=1}^{d/2} |S_j|        (h_{d/2} = 0)
and Figure 2 plots (1/(d/2)) Σ_j |S_j| against m - n. Float64; tolerances stated per test.
"""

from __future__ import annotations

import torch

from peprep.encodings.rope import decay_bound, inv_freq, partial_sums, similar_key_score

F64 = torch.float64
D = 128


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def as_pairs(x: torch.Tensor) -> torch.Tensor:
    """q_{[2i:2i+1]} as the complex number q_{2i} + i·q_{2i+1}."""
    return torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2).contiguous())


def score(q: torch.Tensor, k: torch.Tensor, distance: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """q^T R_{n-m}... written as eq. (35): Re Σ_i h_i e^{i(m-n)θ_i}, for distances m - n (...,)."""
    h = as_pairs(q) * as_pairs(k).conj()
    phase = distance.to(F64)[..., None] * inv_freq(q.shape[-1], base)
    return (h * torch.polar(torch.ones_like(phase), phase)).sum(-1).real


def test_abel_bound_holds():
    """For random q, k and every distance 0..4096: the summation-by-parts identity (eq. 36) is exact and
    |score| <= |Σ h_i e^{iΔθ_i}| <= (max_i |h_{i+1} - h_i|) · Σ_j |S_j| (eq. 37)."""
    dist = torch.arange(0, 4097, dtype=F64)
    for seed in range(5):
        q, k = randn(D, seed=seed), randn(D, seed=100 + seed)
        h = as_pairs(q) * as_pairs(k).conj()  # (D/2,)
        phase = dist[:, None] * inv_freq(D)
        terms = h * torch.polar(torch.ones_like(phase), phase)  # (T, D/2)
        s = torch.polar(torch.ones_like(phase), phase).cumsum(-1)  # S_1 .. S_{D/2}
        h_next = torch.cat((h[1:], h.new_zeros(1)))  # h_{i+1} with h_{D/2} = 0
        assert torch.allclose(terms.sum(-1), -(s * (h_next - h)).sum(-1), atol=1e-9)  # eq. (36)
        bound = (h_next - h).abs().max() * partial_sums(dist, D).sum(-1)
        assert torch.all(score(q, k, dist).abs() <= terms.sum(-1).abs() + 1e-9)
        assert torch.all(terms.sum(-1).abs() <= bound + 1e-9)


def test_decay_bound_curve():
    """The plotted quantity (1/(d/2)) Σ|S_j|: (d/2 + 1)/2 = 32.5 at distance 0 (d = 128), smaller on average
    further away, but not monotone — over a hundred local rises in 0..256, and higher at 4000 than at 1000."""
    dist = torch.arange(0, 4097, dtype=F64)
    curve = decay_bound(dist, D)
    assert torch.isclose(curve[0], torch.tensor(32.5, dtype=F64))
    assert curve[:33].mean() > curve[100:257].mean() > curve[1000:1100].mean()
    assert int((curve[1:257] > curve[:256]).sum()) > 100  # over a hundred local increases inside Figure 2's range
    assert curve[4000] > curve[1000]


def test_larger_base_decays_slower():
    """At a fixed distance the bound is larger for a larger base: the rotations are slower, the sums S_j stay coherent."""
    dist = torch.tensor([50.0, 100.0, 250.0], dtype=F64)
    assert torch.all(decay_bound(dist, D, 500000.0) > decay_bound(dist, D, 10000.0))
    assert torch.all(decay_bound(dist, D, 10000.0) > decay_bound(dist, D, 500.0))


def test_score_is_not_monotone_in_distance():
    """The bound decays; a particular score need not. If the key is the query rotated forward by Δ*·θ_i
    (k_pair_i = q_pair_i e^{iΔ*θ_i}, something W_k can learn), the score is maximal, |q|², at m - n = Δ* = 1000,
    far above its value at m - n = 0."""
    q = randn(D, seed=7)
    target = 1000.0
    phase = target * inv_freq(D)
    k = torch.view_as_real(as_pairs(q) * torch.polar(torch.ones_like(phase), phase)).flatten()
    s = score(q, k, torch.tensor([0.0, target]))
    assert torch.isclose(s[1], q @ q) and s[1] > 3 * s[0].abs()


def test_random_keys_score_zero_on_average():
    """For independent q, k ~ N(0, I) the expected score is 0 at every distance: nothing to decay.
    Monte Carlo, 20 000 samples, d = 128; the standard error of each mean is below 0.12, tolerance 0.6."""
    n = 20000
    q, k = randn(n, D, seed=8), randn(n, D, seed=9)
    for dist in (0.0, 10.0, 300.0, 3000.0):
        assert abs(score(q, k, torch.tensor(dist)).mean()) < 0.6


def test_similar_key_expected_score():
    """For k = q + noise (noise independent of q) the expected score is Σ_i 2·cos(Δθ_i) (q ~ N(0, I)):
    128 at Δ = 0, decaying with oscillation, first negative at Δ = 1707 for base 10000 and d = 128.
    Monte Carlo as above, tolerance 0.8 (4 standard errors)."""
    n = 20000
    q = randn(n, D, seed=10)
    k = q + 0.5 * randn(n, D, seed=11)
    for dist in (0.0, 10.0, 300.0, 3000.0):
        expected = similar_key_score(torch.tensor(dist), D)
        assert abs(score(q, k, torch.tensor(dist)).mean() - expected) < 0.8
    curve = similar_key_score(torch.arange(0, 4000, dtype=F64), D)
    assert curve[0] == 128 and int((curve < 0).nonzero()[0]) == 1707


def test_similar_key_criterion_first_violation():
    """Men et al. 2024's criterion Σ_i cos(mθ_i) >= 0 for all m < L (d = 128) is first violated at m = 1707
    (base 1e4), 7757 (1e5), 18 438 (5e5), 27 115 (1e6): larger bases generally hold it longer, so a longer
    context asks for a larger base."""
    dist = torch.arange(0, 40000, dtype=F64)
    first = {b: int((similar_key_score(dist, D, b) < 0).nonzero()[0]) for b in (1e4, 1e5, 5e5, 1e6)}
    assert first == {1e4: 1707, 1e5: 7757, 5e5: 18438, 1e6: 27115}


def test_similar_key_criterion_is_not_monotone_in_base():
    """The bases Su (kexue.fm/archives/10122) lists for L = 8K and 32K pass: 8.4e4 holds to m = 8591 and
    6.3e5 to 33 258 — yet 1e6 fails at 27 115 < 32 768. "Larger base" is a trend, not a theorem."""
    dist = torch.arange(0, 40000, dtype=F64)
    first = {b: int((similar_key_score(dist, D, b) < 0).nonzero()[0]) for b in (8.4e4, 6.3e5, 1e6)}
    assert first[8.4e4] >= 8192 and first[6.3e5] >= 32768 and first[1e6] < 32768
