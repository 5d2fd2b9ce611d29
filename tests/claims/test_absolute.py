"""Claims of chapter 2 (absolute) about the sinusoidal encoding itself. All in float64.

Each test states the claim it proves; the knowledge points cite them in `verified_by`.
"""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.sinusoidal import (
    TransformerInputEmbedding,
    convert_layout,
    layout_permutation,
    shift_matrix,
    sinusoidal_dot,
    sinusoidal_encoding,
    sinusoidal_frequencies,
    sinusoidal_wavelengths,
)

F64 = torch.float64


def random_positions(n: int, seed: int, high: float = 5000.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, generator=g, dtype=F64) * high


# --- the formula ---------------------------------------------------------------------------------


def test_matches_paper_formula_elementwise():
    # PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(p / 10000^(2i/d)), written out with math.*
    d, positions = 16, [0, 1, 7, 123, 4095]
    pe = sinusoidal_encoding(torch.tensor(positions, dtype=F64), d)
    for row, p in enumerate(positions):
        for i in range(d // 2):
            angle = p / 10000 ** (2 * i / d)
            assert pe[row, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-12)
            assert pe[row, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-12)


def test_frequency_decreases_with_dimension_index():
    # ω_i = 10000^(−2i/d) falls strictly as i grows: low channels oscillate fast, high channels slowly.
    for spacing in ("paper", "t2t"):
        omega = sinusoidal_frequencies(512, spacing=spacing)
        assert omega[0].item() == 1.0
        assert bool((omega[1:] < omega[:-1]).all())


# --- wavelengths ---------------------------------------------------------------------------------


def test_wavelength_range_paper():
    # λ_i = 2π·10000^(2i/d): from exactly 2π to 2π·10000^((d−2)/d) — short of 10000·2π by 10000^(2/d).
    for d in (4, 64, 512):
        lam = sinusoidal_wavelengths(d)
        assert lam[0].item() == pytest.approx(2 * math.pi, rel=1e-15)
        assert lam[-1].item() == pytest.approx(2 * math.pi * 10000 ** ((d - 2) / d), rel=1e-12)
        assert lam[-1].item() < 2 * math.pi * 10000
    # d = 512: the longest wavelength is ≈ 60 611 positions, 10000^(2/512) ≈ 1.0366 times short of 62 832.
    lam = sinusoidal_wavelengths(512)
    assert lam[-1].item() == pytest.approx(60611.477, rel=1e-6)
    assert (lam[1] / lam[0]).item() == pytest.approx(1.0366, abs=1e-4)
    assert 2 * math.pi * 10000 == pytest.approx(62831.85, abs=0.01)


def test_wavelengths_form_geometric_progression():
    # Consecutive ratios are the constant base^(2/d) ("paper") or base^(1/(d/2−1)) ("t2t").
    d = 64
    for spacing, ratio in (("paper", 10000 ** (2 / d)), ("t2t", 10000 ** (1 / (d // 2 - 1)))):
        lam = sinusoidal_wavelengths(d, spacing=spacing)
        torch.testing.assert_close(lam[1:] / lam[:-1], torch.full((d // 2 - 1,), ratio, dtype=F64), rtol=1e-12, atol=0)


def test_wavelength_range_t2t():
    # tensor2tensor divides log(max/min) by num_timescales − 1 = d/2 − 1, so it reaches 10000·2π exactly.
    for d in (4, 64, 512):
        lam = sinusoidal_wavelengths(d, spacing="t2t")
        assert lam[0].item() == pytest.approx(2 * math.pi, rel=1e-15)
        assert lam[-1].item() == pytest.approx(2 * math.pi * 10000, rel=1e-12)


def test_base_sets_the_longest_wavelength():
    # Replacing 10000 by another base b moves the top of the range to about b·2π; the bottom stays 2π.
    for base in (100.0, 500000.0):
        lam = sinusoidal_wavelengths(128, base, spacing="t2t")
        assert lam[0].item() == pytest.approx(2 * math.pi)
        assert lam[-1].item() == pytest.approx(2 * math.pi * base, rel=1e-12)
        lam = sinusoidal_wavelengths(128, base)  # paper spacing: 2π·b^((d−2)/d), just short of b·2π
        assert lam[0].item() == pytest.approx(2 * math.pi)
        assert lam[-1].item() == pytest.approx(2 * math.pi * base ** (126 / 128), rel=1e-12)


# --- layouts -------------------------------------------------------------------------------------


def test_layouts_differ_by_permutation():
    # halves = interleaved[..., perm] with perm = [0, 2, …, d−2, 1, 3, …, d−1], and back with argsort(perm).
    d = 12
    p = random_positions(50, seed=1)
    inter = sinusoidal_encoding(p, d, layout="interleaved")
    halves = sinusoidal_encoding(p, d, layout="halves")
    perm = layout_permutation(d)
    assert perm.tolist() == [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]
    torch.testing.assert_close(inter[..., perm], halves, rtol=0, atol=0)
    torch.testing.assert_close(convert_layout(halves, "halves", "interleaved"), inter, rtol=0, atol=0)
    # The permutation is orthogonal, so every dot product between encodings is unchanged.
    torch.testing.assert_close(inter @ inter.T, halves @ halves.T, rtol=1e-12, atol=1e-12)
    # And the layouts are not the same vector: mixing them up silently corrupts a checkpoint.
    assert (inter - halves).abs().max() > 0.5


def test_spacings_are_different_encodings():
    # "paper" and "t2t" share ω_0 = 1 but differ elsewhere; no permutation maps one onto the other.
    paper, t2t = sinusoidal_frequencies(64), sinusoidal_frequencies(64, spacing="t2t")
    assert paper[0] == t2t[0] == 1.0
    assert (paper[1:] - t2t[1:]).abs().min() > 0
    assert not torch.allclose(paper.sort().values, t2t.sort().values)
    # Pair i: ω_t2t / ω_paper = 10000^(−i/((d/2)(d/2−1))); for d = 512 they differ by at most ≈ 3.5 %
    # (at the lowest frequency), more for smaller d.
    for d, worst in ((512, 0.0353), (64, 0.25)):
        i = torch.arange(d // 2, dtype=F64)
        ratio = sinusoidal_frequencies(d, spacing="t2t") / sinusoidal_frequencies(d)
        torch.testing.assert_close(ratio, 10000 ** (-i / ((d / 2) * (d / 2 - 1))), rtol=1e-12, atol=0)
        assert (1 - ratio).max().item() == pytest.approx(worst, abs=5e-3)


# --- shift property ------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["interleaved", "halves"])
def test_shift_is_block_rotation(layout):
    # PE(p + k) = M(k) PE(p) for random real p and k, with M(k) independent of p,
    # orthogonal (MᵀM = I), det 1, and block-diagonal with [[cos ωk, sin ωk], [−sin ωk, cos ωk]].
    d = 32
    g = torch.Generator().manual_seed(7)
    for k in (torch.rand(5, generator=g, dtype=F64) * 2000 - 1000).tolist():
        m = shift_matrix(k, d, layout=layout)
        p = random_positions(64, seed=int(abs(k)))
        pe_p, pe_pk = sinusoidal_encoding(p, d, layout=layout), sinusoidal_encoding(p + k, d, layout=layout)
        torch.testing.assert_close(pe_p @ m.T, pe_pk, rtol=0, atol=1e-9)
        torch.testing.assert_close(m.T @ m, torch.eye(d, dtype=F64), rtol=0, atol=1e-12)
        assert torch.linalg.det(m).item() == pytest.approx(1.0, abs=1e-9)
    m = shift_matrix(3.0, 4)  # interleaved, two frequencies ω_0 = 1, ω_1 = 10000^(−1/2) = 0.01
    c0, s0, c1, s1 = math.cos(3.0), math.sin(3.0), math.cos(0.03), math.sin(0.03)
    expected = torch.tensor([[c0, s0, 0, 0], [-s0, c0, 0, 0], [0, 0, c1, s1], [0, 0, -s1, c1]], dtype=F64)
    torch.testing.assert_close(m, expected, rtol=0, atol=1e-15)


def test_shift_matrices_compose():
    # M(a) M(b) = M(a + b) and M(−k) = M(k)ᵀ: the shifts form a group of rotations.
    a, b, d = 17.3, -4.1, 16
    torch.testing.assert_close(shift_matrix(a, d) @ shift_matrix(b, d), shift_matrix(a + b, d), rtol=0, atol=1e-12)
    torch.testing.assert_close(shift_matrix(-a, d), shift_matrix(a, d).T, rtol=0, atol=1e-15)


# --- dot product ---------------------------------------------------------------------------------


def test_dot_product_depends_only_on_offset():
    # PE(p)·PE(p + k) = Σ_i cos(ω_i k), the same for every p.
    d = 128
    for k in (1.0, 5.5, 40.0, 700.0):
        p = random_positions(200, seed=int(k * 10))
        dots = (sinusoidal_encoding(p, d) * sinusoidal_encoding(p + k, d)).sum(-1)
        torch.testing.assert_close(dots, sinusoidal_dot(k, d).expand(200), rtol=0, atol=1e-9)
    assert sinusoidal_dot(0.0, d).item() == pytest.approx(d / 2, abs=1e-12)


def test_dot_product_is_symmetric_in_offset():
    # cos is even, so PE(p)·PE(p + k) = PE(p)·PE(p − k): the raw dot product cannot tell before from after.
    k = torch.arange(1, 300, dtype=F64)
    torch.testing.assert_close(sinusoidal_dot(k, 256), sinusoidal_dot(-k, 256), rtol=0, atol=0)
    p = torch.tensor(1000.0, dtype=F64)
    before = sinusoidal_encoding(p, 256) @ sinusoidal_encoding(p - 37, 256)
    after = sinusoidal_encoding(p, 256) @ sinusoidal_encoding(p + 37, 256)
    assert before.item() == pytest.approx(after.item(), abs=1e-9)


def test_dot_product_is_not_monotone():
    # For d = 512 the curve falls from d/2 = 256 at k = 0, first rises again between k = 43 and 44,
    # and even goes negative (around −6.4 near k ≈ 3900): it decays on average, with ripples.
    f = sinusoidal_dot(torch.arange(0, 4001, dtype=F64), 512)
    rises = (f[1:] > f[:-1]).nonzero().flatten()
    assert rises[0].item() == 43
    assert f[44] > f[43]
    assert f.min().item() == pytest.approx(-6.45, abs=0.01) and f.argmin().item() == 3931
    assert f[1] > f[10] > f[100] > f[1000] > 0  # the coarse trend is a decay
    expected = {1: 249.1, 10: 173.8, 100: 112.0, 1000: 45.0}  # the values quoted in the knowledge point
    for k, value in expected.items():
        assert f[k].item() == pytest.approx(value, abs=0.05)


def test_adjacent_positions_are_nearest():
    # ‖PE(p) − PE(q)‖² = d − 2 Σ cos(ω_i (p−q)) depends on |p − q| only; for d = 512 the closest
    # distinct integer positions (over offsets up to 200 000) are neighbours, and none coincide (ω_0 = 1).
    f = sinusoidal_dot(torch.arange(1, 200_001, dtype=F64), 512)
    assert f.argmax().item() == 0  # offset 1
    assert (256 - f).min() > 6.0  # squared distance ≥ 12: every integer position is distinct
    assert (2 * (256 - f[0])).item() == pytest.approx(13.8, abs=0.05)  # the nearest pair, at offset 1


# --- norm and scaling ----------------------------------------------------------------------------


def test_norm_is_constant():
    # sin² + cos² = 1 per frequency, so ‖PE(p)‖² = d/2 for every real p.
    p = random_positions(100, seed=3, high=1e6)
    for d in (2, 64, 512):
        torch.testing.assert_close((sinusoidal_encoding(p, d) ** 2).sum(-1), torch.full((100,), d / 2, dtype=F64))


def test_sqrt_d_scaling_balances_embedding_and_pe():
    # Rows drawn N(0, 1/d) have ‖e‖² ≈ 1; times √d they have ‖e‖² ≈ d, the same order as ‖PE‖² = d/2.
    # Without the scaling the position signal would outweigh the token by a factor ≈ d/2 in squared norm.
    torch.manual_seed(0)
    d, vocab = 512, 2000
    layer = TransformerInputEmbedding(vocab, d, dropout=0.0).double()
    raw_sq = (layer.embed.weight**2).sum(-1)  # (vocab,)
    assert raw_sq.mean().item() == pytest.approx(1.0, rel=0.02)
    tokens = torch.arange(vocab).view(1, -1)
    scaled = layer(tokens) - sinusoidal_encoding(torch.arange(vocab, dtype=F64), d)  # remove PE again
    assert (scaled**2).sum(-1).mean().item() == pytest.approx(d, rel=0.02)


def test_dropout_acts_on_the_sum():
    # §5.4: dropout is applied to embedding + PE; in training mode surviving entries are scaled by 1/(1−p),
    # so a dropped entry removes token and position information together.
    torch.manual_seed(0)
    layer = TransformerInputEmbedding(50, 16, dropout=0.5).double().train()
    tokens = torch.arange(10).view(1, -1)
    out = layer(tokens)
    clean = layer.embed(tokens) * 4.0 + sinusoidal_encoding(torch.arange(10, dtype=F64), 16)
    kept = out != 0
    torch.testing.assert_close(out[kept], 2.0 * clean[kept])
    assert 0 < kept.double().mean().item() < 1


# --- why sin and cos; extrapolation --------------------------------------------------------------


def test_sin_only_has_no_linear_shift():
    # With only sin channels, sin(ω(p+k)) = sin(ωp)cos(ωk) + cos(ωp)sin(ωk) needs cos(ωp), which is not in
    # the vector: the best linear map from [sin ω_i p]_i to [sin ω_i (p+k)]_i leaves a large residual
    # (RMS ≈ 0.37 for d = 16, k = 5), while the sin+cos encoding is mapped exactly (RMS below 1e-13).
    d, k = 16, 5.0
    p = torch.arange(0, 2000, dtype=F64)
    full, full_k = sinusoidal_encoding(p, d), sinusoidal_encoding(p + k, d)
    sin_only, sin_only_k = full[:, 0::2], full_k[:, 0::2]
    rms = []
    for x, y in ((full, full_k), (sin_only, sin_only_k)):
        m = torch.linalg.lstsq(x, y).solution
        rms.append((x @ m - y).pow(2).mean().sqrt().item())
    assert rms[0] < 1e-13
    assert 0.3 < rms[1] < 0.45


def test_half_the_pairs_do_not_complete_a_period_in_training_length():
    # d = 512, L = 512: pairs i >= 123 have λ_i > 512, so 133 of the 256 frequencies never complete one
    # period inside the training window (170 of 256 with base 500000).
    assert (sinusoidal_wavelengths(512) > 512).sum().item() == 133
    assert (sinusoidal_wavelengths(512) > 512).nonzero()[0].item() == 123
    assert (sinusoidal_wavelengths(512, 500000.0) > 512).sum().item() == 170


def test_low_frequency_channels_leave_their_training_range():
    # "It is periodic, so it extrapolates" fails: trained on positions 0..511, at position 1024 the slow
    # channels take values none of them showed during training: 205 of the 512 channels, all in pairs i >= 142.
    d, L = 512, 512
    train = sinusoidal_encoding(torch.arange(L, dtype=F64), d)  # (L, d)
    far = sinusoidal_encoding(torch.tensor(2.0 * L, dtype=F64), d)  # (d,)
    outside = (far < train.min(0).values - 1e-9) | (far > train.max(0).values + 1e-9)
    assert outside.sum().item() == 205  # of 512 channels
    assert outside.nonzero()[0].item() == 284  # all of them belong to pairs i >= 142 (slow frequencies)
    assert not outside[:284].any()


def test_whole_vector_is_periodic_only_for_tiny_d():
    # Consecutive wavelengths differ by 10000^(2/d) = 10^(8/d), an integer only for d in {2, 4, 8}.
    # For d = 8 the wavelengths are 2π, 20π, 200π, 2000π, so the whole vector has the real period 2000π;
    # for d > 8 the ratio is irrational and there is no common period. Integer shifts never repeat for any d
    # (the ω_0 = 1 pair alone forbids it), which is what "unique positions" means.
    p = random_positions(50, seed=9)
    torch.testing.assert_close(sinusoidal_encoding(p + 2000 * math.pi, 8), sinusoidal_encoding(p, 8),
                               rtol=0, atol=1e-9)
    lam = sinusoidal_wavelengths(16)
    ratio = (lam[1] / lam[0]).item()
    assert ratio == pytest.approx(10 ** 0.5, rel=1e-12)  # 10^(8/16) = √10, irrational
    # ...but no integer shift (checked up to 20 000) brings even the d = 8 vector back onto itself.
    shifts = torch.arange(1, 20001, dtype=F64)
    dist_sq = 8 - 2 * sinusoidal_dot(shifts, 8)
    assert dist_sq.min().item() > 0.01  # ≈ 0.035 at best


def test_float32_phase_error_grows_with_position():
    # Forming p·ω_i in float32 (the usual implementation) rounds the angle with unit roundoff 2^-24, so the
    # worst phase error over the d/2 frequencies is of order p·2^-24: ≈ 2e-5 rad at p = 300, ≈ 6e-3 at 1e5.
    d = 512
    i = torch.arange(d // 2)
    omega32 = torch.exp(-(2 * i.float() / d) * math.log(10000.0))
    omega64 = sinusoidal_frequencies(d)
    for p, expected in ((300.0, 2e-5), (1e5, 6e-3)):
        err = ((torch.tensor(p) * omega32).double() - p * omega64).abs().max().item()
        assert err == pytest.approx(expected, rel=0.25)
        assert 0.5 < err / (p * 2.0**-24) < 2.0
