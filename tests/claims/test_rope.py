"""Claims of chapter 4 (RoPE) about the rotation itself. Everything in float64 unless a test says otherwise.

Each test states the claim it proves; the knowledge points cite them in `verified_by`.
Tolerances: float64 round-off on O(1) values with D <= 128 terms, so 1e-10 absolute is generous.
"""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.attention import attention_weights
from peprep.encodings.rope import (
    LAYOUTS,
    angles,
    apply_rotary,
    apply_rotary_complex,
    cos_sin,
    inv_freq,
    rope,
    rotation_matrix,
    wavelengths,
)

F64 = torch.float64
TOL = 1e-10


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def rotate(x: torch.Tensor, positions: torch.Tensor, layout: str = "interleaved", base: float = 10000.0) -> torch.Tensor:
    """Float64 angles so that the claims are tested at round-off level, not at float32 level."""
    cos, sin = cos_sin(angles(positions, inv_freq(x.shape[-1], base), dtype=F64), layout)
    return apply_rotary(x, cos, sin, layout=layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_score_depends_only_on_offset(layout):
    """<f(q, m), f(k, n)> = g(q, k, m - n): shifting both positions by any s leaves every score unchanged."""
    q, k = randn(64, 128, seed=1), randn(64, 128, seed=2)
    g = torch.Generator().manual_seed(3)
    m = torch.randint(0, 4096, (64,), generator=g)
    n = torch.randint(0, 4096, (64,), generator=g)
    scores = (rotate(q, m, layout) * rotate(k, n, layout)).sum(-1)
    for shift in torch.randint(-3000, 30000, (8,), generator=g):
        shifted = (rotate(q, m + shift, layout) * rotate(k, n + shift, layout)).sum(-1)
        assert torch.allclose(shifted, scores, atol=1e-9)
    # ... and it does depend on the offset: a different m - n gives a different score
    moved = (rotate(q, m + 1, layout) * rotate(k, n, layout)).sum(-1)
    assert (moved - scores).abs().max() > 1e-2


@pytest.mark.parametrize("layout", LAYOUTS)
def test_rotation_preserves_norm(layout):
    """Each 2x2 block is orthogonal, so ||f(x, m)|| = ||x|| at every position (paper §3.2.2)."""
    x = randn(5, 3, 50, 64, seed=4)
    m = torch.arange(0, 50 * 997, 997)
    assert torch.allclose(rotate(x, m, layout).norm(dim=-1), x.norm(dim=-1), atol=TOL)


def test_rotation_matrices_compose():
    """R_m^T R_n = R_{n-m}, R_m R_n = R_{m+n}, R_0 = I (eq. 16): a one-parameter group of rotations."""
    theta = inv_freq(16)
    for m, n in [(0, 5), (7, 3), (1000, 1234), (2.5, -4.0)]:
        assert torch.allclose(rotation_matrix(m, theta).T @ rotation_matrix(n, theta), rotation_matrix(n - m, theta), atol=TOL)
        assert torch.allclose(rotation_matrix(m, theta) @ rotation_matrix(n, theta), rotation_matrix(m + n, theta), atol=TOL)
    assert torch.equal(rotation_matrix(0, theta), torch.eye(16, dtype=F64))


def test_elementwise_equals_block_diagonal_matrix():
    """x·cos + rotate_pairs(x)·sin (eq. 34) is exactly R^d_{Θ,m} x (eq. 15) with pairs (2i, 2i+1)."""
    x = randn(40, 32, seed=5)
    positions = torch.arange(40) * 37
    dense = torch.stack([rotation_matrix(float(m), inv_freq(32)) @ x[t] for t, m in enumerate(positions)])
    assert torch.allclose(rotate(x, positions), dense, atol=TOL)


def test_complex_form_equals_real_form():
    """f(x, m) = x·e^{imθ} on complex numbers x_{2i} + i·x_{2i+1} (Meta's view_as_complex) = the real rotation."""
    x = randn(2, 4, 30, 64, seed=6)
    a = angles(torch.arange(30) * 101, inv_freq(64), dtype=F64)
    assert torch.allclose(apply_rotary_complex(x, a), rotate(x, torch.arange(30) * 101), atol=TOL)


def test_position_zero_is_identity():
    """f(x, 0) = x: the initial condition of the derivation (eq. 22)."""
    x = randn(3, 8, 64, seed=7)
    assert torch.equal(rotate(x, torch.zeros(8, dtype=torch.long)), x)


def test_inv_freq_schedule():
    """θ_i = base^(-2i/d), i = 0..d/2-1 (0-based; the paper's 10000^(-2(i-1)/d), i = 1..d/2, is the same list)."""
    d = 128
    theta = inv_freq(d)
    paper = torch.tensor([10000.0 ** (-2 * (i - 1) / d) for i in range(1, d // 2 + 1)], dtype=F64)
    assert torch.allclose(theta, paper, rtol=1e-14)
    assert theta[0] == 1.0 and math.isclose(theta[-1], 10000 ** (-(d - 2) / d), rel_tol=1e-14)
    assert torch.all(theta[1:] < theta[:-1])  # strictly decreasing: pair 0 is the fastest


def test_wavelengths_base_10000_vs_500000():
    """λ_i = 2π·base^(2i/d). d = 128: shortest 2π ≈ 6.28 tokens; longest ≈ 5.44e4 (base 1e4) and ≈ 2.56e6 (5e5).
    Pairs with λ_i <= L complete a full turn inside a window of L tokens: 41 of 64 for (1e4, 2048, LLaMA 1),
    46 for (1e4, 4096, Llama 2), 35 for (5e5, 8192, Llama 3)."""
    short, long_ = wavelengths(128, 10000.0), wavelengths(128, 500000.0)
    assert math.isclose(short[0], 2 * math.pi) and math.isclose(long_[0], 2 * math.pi)
    assert 5.44e4 < short[-1] < 5.45e4  # 2π · 10000^(126/128) = 54 410
    assert 2.55e6 < long_[-1] < 2.57e6  # 2π · 500000^(126/128) = 2 559 196
    assert int((short <= 2048).sum()) == 41 and int((short <= 4096).sum()) == 46 and int((long_ <= 8192).sum()) == 35


def test_value_rotation_breaks_shift_invariance():
    """Rotating q and k only: shifting every position leaves the attention output unchanged.
    Rotating v too puts absolute positions into the output: the same shift changes it."""
    q, k, v = randn(1, 2, 12, 16, seed=8), randn(1, 2, 12, 16, seed=9), randn(1, 2, 12, 16, seed=10)
    pos = torch.arange(12)

    def out(shift: int, rotate_v: bool) -> torch.Tensor:
        p = pos + shift
        w = attention_weights(rotate(q, p), rotate(k, p), causal=True)
        return w @ (rotate(v, p) if rotate_v else v)

    assert torch.allclose(out(0, False), out(500, False), atol=TOL)
    assert (out(0, True) - out(500, True)).abs().max() > 1e-2


def test_additive_sinusoidal_score_is_not_relative():
    """With an additive input encoding, (x_m + p_m)^T W (x_n + p_n) depends on m and n, not only m - n."""
    x_q, x_k, w = randn(64, seed=11), randn(64, seed=12), randn(64, 64, seed=13)
    theta = inv_freq(64)

    def pe(m: int) -> torch.Tensor:  # Vaswani et al.: [sin, cos] on (2i, 2i+1)
        return torch.stack(((m * theta).sin(), (m * theta).cos()), dim=-1).flatten()

    def score(m: int, n: int) -> torch.Tensor:
        return (x_q + pe(m)) @ w @ (x_k + pe(n))

    assert abs(score(10, 3) - score(110, 103)) > 1e-2
    rope_score = lambda m, n: rotate(x_q, torch.tensor([m])) @ rotate(x_k, torch.tensor([n])).T  # noqa: E731
    assert torch.allclose(rope_score(10, 3), rope_score(110, 103), atol=TOL)


def test_cos_sin_table_is_the_sinusoidal_table():
    """RoPE's cos/sin at (m, i) are the sinusoidal encoding's entries: PE[m, 2i] = sin(mθ_i), PE[m, 2i+1] = cos(mθ_i)."""
    m = torch.arange(100)
    cos, sin = cos_sin(angles(m, inv_freq(64), dtype=F64), "interleaved")
    pe = torch.stack(((m[:, None] * inv_freq(64)).sin(), (m[:, None] * inv_freq(64)).cos()), dim=-1).flatten(-2)
    assert torch.allclose(sin[:, 0::2], pe[:, 0::2], atol=TOL) and torch.allclose(cos[:, 0::2], pe[:, 1::2], atol=TOL)


def test_linear_attention_with_rope_is_relative():
    """RoFormer eq. (19): rotate φ(q), φ(k) in the numerator, keep the denominator unrotated.
    Shifting all positions leaves the output unchanged; the weights can be negative (not a distribution)."""
    phi = lambda x: torch.nn.functional.elu(x) + 1  # noqa: E731  (Katharopoulos et al.'s feature map)
    q, k, v = randn(20, 32, seed=14), randn(20, 32, seed=15), randn(20, 32, seed=16)
    pos = torch.arange(20) * 50

    def linear_attention(shift: int) -> tuple[torch.Tensor, torch.Tensor]:
        qr, kr = rotate(phi(q), pos + shift), rotate(phi(k), pos + shift)
        weights = (qr @ kr.T) / (phi(q) @ phi(k).T).sum(-1, keepdim=True)
        # associativity: the same numerator computed as qr (Σ_n kr_n v_n^T), linear in T
        assert torch.allclose(qr @ (kr.T @ v), (qr @ kr.T) @ v, atol=1e-8)
        return weights @ v, weights

    out0, w0 = linear_attention(0)
    out1, _ = linear_attention(777)
    assert torch.allclose(out0, out1, atol=1e-9)
    assert (w0 < 0).any()


def test_partial_rotary_score_is_relative_plus_content():
    """Rotating only the first R channels: score = (rotated part, a function of m - n) + (plain dot product of the rest)."""
    q, k = randn(1, 64, seed=17), randn(1, 64, seed=18)
    r = 16
    cos_m, sin_m = cos_sin(angles(torch.tensor([40]), inv_freq(r), dtype=F64))
    cos_n, sin_n = cos_sin(angles(torch.tensor([9]), inv_freq(r), dtype=F64))
    score = (apply_rotary(q, cos_m, sin_m) * apply_rotary(k, cos_n, sin_n)).sum()
    relative = (rotate(q[:, :r], torch.tensor([31])) * k[:, :r]).sum()  # same offset m - n = 31, key at 0
    assert torch.allclose(score, relative + (q[:, r:] * k[:, r:]).sum(), atol=TOL)


def test_rope_rotates_only_the_first_rotary_dim_channels():
    """Partial rotary leaves channels R..D-1 bit-identical."""
    x = randn(2, 3, 10, 64, seed=19)
    out = rope(x.float(), torch.arange(10), rotary_dim=16)
    assert torch.equal(out[..., 16:], x.float()[..., 16:]) and not torch.equal(out[..., :16], x.float()[..., :16])
