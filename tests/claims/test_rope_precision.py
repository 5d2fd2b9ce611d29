"""Claims about numerical precision of RoPE angles m·θ_i (why they are computed in float32).

bfloat16 keeps 8 significant bits: every integer up to 256 is exact, above that the spacing is
2^(e-7) (64 at 8192). float16 keeps 11 bits (exact to 2048). The reference is float64; angle errors are
measured modulo 2π (an error of a whole turn would be harmless).
"""

from __future__ import annotations

import math

import torch

from peprep.encodings.rope import RotaryEmbedding, angles, apply_rotary, cos_sin, inv_freq

F64 = torch.float64


def angle_error(approx: torch.Tensor, m: int, d: int = 128) -> float:
    """max_i |approx_i - m·θ_i| wrapped to [-π, π)."""
    diff = approx.to(F64) - m * inv_freq(d)
    return float((torch.remainder(diff + math.pi, 2 * math.pi) - math.pi).abs().max())


def test_bf16_cannot_represent_positions_above_256():
    """Integers <= 256 are exact in bfloat16; 257 rounds to 256 and at 8192 the spacing is 64, so positions
    8192..8224 all become 8192 (round half to even) — 33 distinct tokens get the same rotation."""
    exact = torch.arange(0, 257, dtype=F64)
    assert torch.equal(exact.to(torch.bfloat16).to(F64), exact)
    assert float(torch.tensor(257.0).to(torch.bfloat16)) == 256.0
    block = torch.arange(8192, 8225, dtype=F64).to(torch.bfloat16)
    assert torch.all(block == 8192) and float(torch.tensor(8225.0).to(torch.bfloat16)) == 8256.0
    assert float(torch.tensor(2049.0).to(torch.float16)) == 2048.0


def test_bf16_angle_error_at_8192():
    """At m = 8192 (d = 128, base 1e4): angles computed in bfloat16 (position and θ_i in bf16, as under
    autocast before transformers PR #29285) are off by up to ~3 rad — meaningless — while float32 angles
    (`angles`) are off by < 5e-4 rad. Rounding only θ_i to bf16 (a buffer cast to the model dtype,
    transformers issue #29496), with an exact float32 position, is just as bad (~3 rad): 8192 is exact in
    bf16, so all of that error comes from θ_i's relative rounding error (at most the bf16 unit roundoff
    2^-8 ≈ 0.39%; the largest among these 64 θ_i is 0.37%) times m: for θ_1 ≈ 0.87 (rounded by 0.14%) that
    is already ~10 rad before reduction modulo 2π."""
    m, theta = 8192, inv_freq(128)
    bf16 = torch.tensor(float(m)).to(torch.bfloat16) * theta.to(torch.bfloat16)
    assert angle_error(bf16, m) > 2.0
    assert angle_error(angles(torch.tensor([m]), theta)[0], m) < 5e-4
    theta_rounded = theta.to(torch.bfloat16).to(torch.float32)
    assert angle_error(torch.tensor(float(m)) * theta_rounded, m) > 2.0
    rel = (theta.to(torch.bfloat16).to(F64) / theta - 1).abs()
    assert float(rel.max()) <= 2**-8 and float(rel.max()) > 2**-9  # unit roundoff of an 8-significant-bit format
    assert 9.0 < m * float(theta[1] * rel[1]) < 11.0  # pair 1 alone: ~10 rad of raw angle error at m = 8192
    # already at m = 1000 the bf16 angles are wrong by radians
    assert angle_error(torch.tensor(1000.0).to(torch.bfloat16) * theta.to(torch.bfloat16), 1000) > 1.0


def test_float32_angle_error_grows_with_position():
    """float32 is not exact either: the error grows about linearly in m (one ulp of m·θ_0 = m):
    ~2.4e-4 rad at 8192, ~2.7e-3 rad at 131 071 — small against the 2π period, but float64 is there if needed."""
    theta = inv_freq(128)
    e_8k = angle_error(angles(torch.tensor([8192]), theta)[0], 8192)
    e_128k = angle_error(angles(torch.tensor([131071]), theta)[0], 131071)
    assert 1e-4 < e_8k < 5e-4 and 1e-3 < e_128k < 5e-3
    assert angle_error(angles(torch.tensor([131071]), theta, dtype=F64)[0], 131071) < 1e-9


def test_cos_sin_rounded_to_bf16_is_a_small_error():
    """Rounding cos and sin (computed from float32 angles) to bf16, as transformers does before the
    multiply, costs at most half a bf16 ulp of numbers in [-1, 1]: <= 2^-9 ≈ 0.002 absolute."""
    cos, sin = cos_sin(angles(torch.arange(0, 131072, 97), inv_freq(128)))
    assert (cos.to(torch.bfloat16).float() - cos).abs().max() <= 2**-9
    assert (sin.to(torch.bfloat16).float() - sin).abs().max() <= 2**-9


def test_module_keeps_float_frequencies_after_bf16_cast():
    """RotaryEmbedding stores θ_i outside the buffers, so model.to(bfloat16) cannot round them: bf16 q, k at
    positions around 8192 are rotated as accurately as bf16 storage allows (error <= 2^-7 relative to |x|)."""
    module = RotaryEmbedding(64).to(torch.bfloat16)
    assert module.inv_freq.dtype == F64
    q = torch.randn(1, 2, 16, 64, generator=torch.Generator().manual_seed(0))
    pos = torch.arange(8192, 8208)
    out, _ = module(q.to(torch.bfloat16), q.to(torch.bfloat16), pos)
    cos, sin = cos_sin(angles(pos, inv_freq(64), dtype=F64))
    reference = apply_rotary(q.to(F64), cos, sin)
    assert ((out.to(F64) - reference).abs().max() / q.abs().max()) < 2**-7
