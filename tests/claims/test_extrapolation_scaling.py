"""Claims of chapter 5 about RoPE frequency scaling (peprep.encodings.rope_scaling).

Float64 throughout; "exact" means agreement to 1e-12 relative unless a test says otherwise.
"""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.rope import angles, inv_freq
from peprep.encodings.rope_scaling import (
    DefaultRope,
    DynamicNTKScaling,
    LinearScaling,
    Llama3Scaling,
    LongRopeScaling,
    NTKAwareScaling,
    YarnScaling,
    ntk_base,
    rope_frequencies,
    yarn_correction_dim,
    yarn_mscale,
    yarn_ramp,
)

F64 = torch.float64
REL = 1e-12


def rel_close(a: torch.Tensor, b: torch.Tensor, rtol: float = REL) -> bool:
    return bool(torch.all((a - b).abs() <= rtol * b.abs()))


@pytest.mark.parametrize("factor", [2.0, 4.0, 8.0, 32.0])
def test_pi_equals_dividing_positions(factor):
    """PI: angles with θ_i/s at positions m equal plain RoPE angles at positions m/s (Chen et al. eq. 4)."""
    theta_pi, scaling = rope_frequencies(LinearScaling(factor), 128)
    m = torch.arange(0, 32768, 7, dtype=F64)
    assert scaling == 1.0
    assert torch.allclose(angles(m, theta_pi, dtype=F64), angles(m / factor, inv_freq(128), dtype=F64), rtol=1e-13, atol=1e-9)
    # and every relative distance m − n inside s·L lands inside [0, L) after the scaling
    assert (32768 - 1) / factor < 32768 / factor


@pytest.mark.parametrize("d", [32, 64, 128, 256])
@pytest.mark.parametrize("factor", [2.0, 4.0, 16.0])
def test_ntk_keeps_highest_and_divides_lowest_by_scale(d, factor):
    """NTK-aware base' = base·s^(d/(d−2)): θ_0 = 1 stays, θ_{d/2−1} becomes exactly θ_{d/2−1}/s,
    and every pair in between is scaled by s^(2i/(d−2)), i.e. between 1 and s."""
    theta = inv_freq(d)
    theta_ntk, _ = rope_frequencies(NTKAwareScaling(factor), d)
    assert theta_ntk[0] == theta[0] == 1.0
    assert rel_close(theta_ntk[-1], theta[-1] / factor)
    i = torch.arange(d // 2, dtype=F64)
    assert rel_close(theta / theta_ntk, factor ** (2 * i / (d - 2)))
    assert torch.all(theta_ntk <= theta) and torch.all(theta_ntk >= theta / factor * (1 - 1e-12))


def test_ntk_base_for_scale_4_and_d_128():
    """The interview number: s = 4, d = 128, base 10000 -> base' = 10000·4^(128/126) ≈ 40 890 (not 40 000)."""
    assert ntk_base(10000.0, 4.0, 128) == pytest.approx(40889.94243, rel=1e-9)
    assert ntk_base(10000.0, 4.0, 128) > 10000.0 * 4
    # the exponent is the unique one that maps the lowest frequency exactly to θ/s
    solved = 4.0 ** (1 / ((128 - 2) / 128))
    assert ntk_base(10000.0, 4.0, 128) == pytest.approx(10000.0 * solved, rel=1e-14)


def test_base_beta_view_of_ntk():
    """Su's base-β view: θ_i = β^(−i) with β = base^(2/d); NTK multiplies β by s^(2/(d−2)), so the last
    'digit' β^(d/2−1) grows by exactly s — a base change that keeps d/2 digits and covers s times more."""
    d, base, s = 128, 10000.0, 8.0
    beta = base ** (2 / d)
    beta_ntk = ntk_base(base, s, d) ** (2 / d)
    assert beta_ntk / beta == pytest.approx(s ** (2 / (d - 2)), rel=1e-13)
    assert (beta_ntk / beta) ** (d / 2 - 1) == pytest.approx(s, rel=1e-12)
    i = torch.arange(d // 2, dtype=F64)
    assert rel_close(inv_freq(d, base), beta ** (-i), rtol=1e-12)


@pytest.mark.parametrize("factor", [1.0, 2.0, 4.0])
def test_dynamic_ntk_is_default_up_to_original_length(factor):
    """Dynamic NTK (transformers' formula): base·(f·ℓ/L − (f−1))^(d/(d−2)) gives exactly the default
    frequencies for every ℓ <= L, and NTK-aware with s = f·ℓ/L − (f − 1) beyond."""
    p = DynamicNTKScaling(factor, original_max_position_embeddings=4096)
    default, _ = rope_frequencies(DefaultRope(), 128)
    for length in (1, 100, 2048, 4096):
        assert torch.equal(rope_frequencies(p, 128, seq_len=length)[0], default)
    assert torch.equal(rope_frequencies(p, 128)[0], default)  # no length given = the trained length
    for length in (4097, 8192, 32768):
        s = factor * length / 4096 - (factor - 1)
        assert rel_close(rope_frequencies(p, 128, seq_len=length)[0], rope_frequencies(NTKAwareScaling(s), 128)[0])


@pytest.mark.parametrize("ramp", ["dimension", "ratio"])
@pytest.mark.parametrize("factor", [2.0, 8.0, 32.0])
def test_yarn_frequencies_lie_between_pi_and_default(ramp, factor):
    """Every YaRN frequency lies in [θ_i/s, θ_i]: it interpolates between PI and no change, never beyond."""
    theta = inv_freq(128)
    theta_yarn, _ = rope_frequencies(YarnScaling(factor, 4096, ramp=ramp), 128)
    assert torch.all(theta_yarn <= theta * (1 + 1e-15))
    assert torch.all(theta_yarn >= theta / factor * (1 - 1e-15))


def test_yarn_ratio_ramp_end_points_match_alpha_and_beta():
    """Paper eq. (18): pairs with r = L/λ >= β keep θ exactly, pairs with r <= α get exactly θ/s, and in
    between γ = (r − α)/(β − α). LLaMA 2 (L = 4096, d = 128, α = 1, β = 32): pairs 0-20 keep, 46-63 get θ/s."""
    p = YarnScaling(16.0, 4096, ramp="ratio")
    theta = inv_freq(128)
    theta_yarn, _ = rope_frequencies(p, 128)
    r = 4096 / (2 * math.pi / theta)
    keep, interp = r >= 32, r <= 1
    assert torch.equal(theta_yarn[keep], theta[keep])
    assert rel_close(theta_yarn[interp], theta[interp] / 16)
    assert torch.nonzero(keep).flatten().tolist() == list(range(21))
    assert torch.nonzero(interp).flatten().tolist() == list(range(46, 64))
    mid = ~(keep | interp)
    assert torch.allclose(yarn_ramp(p, 128)[mid], (r[mid] - 1) / 31, rtol=1e-13)


def test_yarn_dimension_ramp_is_linear_in_log_ratio():
    """The official ramp (jquesnelle/yarn, transformers) is linear in the pair index between the indices
    where r = β and r = α; since ln r is linear in i, it is γ = (ln r − ln α)/(ln β − ln α) when the end
    points are not rounded (truncate=False), and the rounded version only widens the ramp outward."""
    theta = inv_freq(128)
    r = 4096 / (2 * math.pi / theta)
    exact = yarn_ramp(YarnScaling(16.0, 4096, truncate=False), 128)
    assert torch.allclose(exact, ((r.log() - math.log(1)) / (math.log(32) - math.log(1))).clamp(0, 1), atol=1e-12)
    rounded = yarn_ramp(YarnScaling(16.0, 4096), 128)  # low = floor(20.94) = 20, high = ceil(45.03) = 46
    assert yarn_correction_dim(32, 128, 10000, 4096) == pytest.approx(20.9445, abs=1e-4)
    assert yarn_correction_dim(1, 128, 10000, 4096) == pytest.approx(45.0269, abs=1e-4)
    assert torch.equal(rounded[:21], torch.ones(21, dtype=F64)) and torch.equal(rounded[46:], torch.zeros(18, dtype=F64))
    assert torch.all(rounded[1:] <= rounded[:-1]) and torch.all(exact[1:] <= exact[:-1])  # both fall from 1 to 0
    # the two ramps agree at the end points and differ in between (ratio vs log-ratio)
    ratio = yarn_ramp(YarnScaling(16.0, 4096, ramp="ratio"), 128)
    assert (ratio[21:46] - exact[21:46]).abs().max() > 0.2


def test_yarn_attention_factor():
    """√(1/t) = 0.1 ln s + 1 (eq. 22) multiplies cos and sin, so the logits are scaled by its square;
    s = 8 gives 1.208 (eq. 25); s <= 1 gives 1."""
    assert yarn_mscale(8.0) == pytest.approx(1.2079, abs=1e-4)
    assert yarn_mscale(1.0) == 1.0 and yarn_mscale(0.5) == 1.0
    _, factor = rope_frequencies(YarnScaling(16.0, 4096), 128)
    assert factor == pytest.approx(0.1 * math.log(16) + 1, rel=1e-15)
    q, k = torch.randn(2, 128, dtype=F64, generator=torch.Generator().manual_seed(0))
    assert torch.dot(q * factor, k * factor).item() == pytest.approx(factor**2 * torch.dot(q, k).item(), rel=1e-12)
    # DeepSeek-style configs give mscale and mscale_all_dim; equal values cancel to 1
    assert rope_frequencies(YarnScaling(40.0, 4096, mscale=1.0, mscale_all_dim=1.0), 128)[1] == 1.0


def test_llama3_three_bands():
    """Llama 3.1 (factor 8, low 1, high 4, L = 8192, base 500000, d = 128): λ < 2048 unchanged (29 pairs),
    λ > 8192 divided by 8 (29 pairs), 6 pairs in between blended; continuous at both band edges."""
    p = Llama3Scaling()
    theta = inv_freq(128, 500000.0)
    theta_31, factor = rope_frequencies(p, 128)
    wavelength = 2 * math.pi / theta
    high, low = wavelength < 2048, wavelength > 8192
    assert factor == 1.0
    assert int(high.sum()) == 29 and int(low.sum()) == 29 and int((~high & ~low).sum()) == 6
    assert torch.equal(theta_31[high], theta[high])
    assert rel_close(theta_31[low], theta[low] / 8)
    mid = ~high & ~low
    assert torch.all(theta_31[mid] < theta[mid]) and torch.all(theta_31[mid] > theta[mid] / 8)
    # the blend weight (L/λ − 1)/(4 − 1) is 1 at λ = L/4 and 0 at λ = L: no jump at either edge
    edges = torch.tensor([2 * math.pi / (8192 / 4), 2 * math.pi / 8192], dtype=F64)
    smooth = (8192 / (2 * math.pi / edges) - 1) / 3
    assert torch.allclose(smooth, torch.tensor([1.0, 0.0], dtype=F64), atol=1e-12)


def test_longrope_factors_and_attention_factor():
    """LongRoPE: θ_i/λ_i with the given per-pair factors (short ones up to L, long ones beyond), and the
    attention factor √(1 + ln s / ln L) (Phi-3: s = 131072/4096 = 32 gives ≈ 1.19)."""
    short = tuple(1.0 + 0.01 * i for i in range(64))
    long = tuple(1.0 + 0.5 * i for i in range(64))
    p = LongRopeScaling(short, long, original_max_position_embeddings=4096, max_position_embeddings=131072)
    theta = inv_freq(128)
    s_freq, attention = rope_frequencies(p, 128, seq_len=4096)
    l_freq, _ = rope_frequencies(p, 128, seq_len=4097)
    assert rel_close(s_freq, theta / torch.tensor(short, dtype=F64))
    assert rel_close(l_freq, theta / torch.tensor(long, dtype=F64))
    assert attention == pytest.approx(math.sqrt(1 + math.log(32) / math.log(4096)), rel=1e-15)
    assert attention == pytest.approx(1.1902, abs=1e-4)


def critical_index(d: int, base: float, length: int) -> float:
    return d / 2 * math.log(length / (2 * math.pi)) / math.log(base)


def test_critical_pair_index():
    """i_c = (d/2)·log_b(L/2π) separates pairs that complete a period inside L (λ_i <= L) from those that do not.
    LLaMA 2 (d = 128, b = 10000, L = 4096): i_c ≈ 45.03, 46 pairs complete, 18 do not. The lab's heads
    (d = 32, L = 64): i_c ≈ 4.03, 5 complete, 11 do not. i_c is YaRN's correction index for r = 1."""
    for (d, base, length), (ic, complete) in {(128, 10000.0, 4096): (45.03, 46), (32, 10000.0, 64): (4.03, 5)}.items():
        wavelength = 2 * math.pi / inv_freq(d, base)
        assert critical_index(d, base, length) == pytest.approx(ic, abs=5e-3)
        assert int((wavelength <= length).sum()) == complete
        assert critical_index(d, base, length) == pytest.approx(yarn_correction_dim(1, d, base, length), rel=1e-14)


def test_llama3_scaling_is_by_parts_with_alpha_1_beta_4():
    """Llama 3.1's blend weight (L/λ − low)/(high − low) is NTK-by-parts' γ(r) = (r − α)/(β − α) with r = L/λ,
    α = low_freq_factor = 1 and β = high_freq_factor = 4: the paper-form ramp, no temperature."""
    by_parts = YarnScaling(8.0, 8192, base=500000.0, beta_fast=4.0, beta_slow=1.0, ramp="ratio", attention_factor=1.0)
    assert torch.allclose(rope_frequencies(Llama3Scaling(), 128)[0], rope_frequencies(by_parts, 128)[0], rtol=1e-13, atol=0)


def test_code_llama_base_as_ntk_scale():
    """Reading Code Llama's base 10^6 (from 10^4) as NTK-aware: 10^6 = 10^4 · s^(128/126) gives s = 100^(126/128)
    ≈ 93.1; the YaRN paper quotes s ≈ 88.6 without showing the computation."""
    s = 100 ** (126 / 128)
    assert s == pytest.approx(93.06, abs=0.01)
    assert ntk_base(10000.0, s, 128) == pytest.approx(1e6, rel=1e-12)
