"""Claims about xPos (Sun et al. 2023): RoPE whose per-pair contribution is damped by ζ_i^{(m-n)/B}.

Float64 throughout (angles and scales too); tolerance 1e-10 relative.
"""

from __future__ import annotations

import torch

from peprep.encodings.rope import angles, apply_rotary, cos_sin, inv_freq
from peprep.encodings.xpos import apply_xpos, xpos_zeta

F64 = torch.float64
D = 32


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_xpos_score_is_damped_rope_score():
    """score_xpos(m, n) = Σ_i (RoPE score of pair i) · ζ_i^{(m-n)/B}: 0 < ζ_i < 1, so for a causal
    offset m - n > 0 every pair is damped, the high-frequency pairs (small i, small ζ_i) most."""
    q, k = randn(1, 1, 1, D, seed=1), randn(1, 1, 1, D, seed=2)
    zeta = xpos_zeta(D)
    assert torch.all((zeta > 0) & (zeta < 1)) and torch.all(zeta[1:] > zeta[:-1])
    for m, n in [(10, 3), (700, 100), (2000, 0)]:
        qx, kx = apply_xpos(q, k, torch.tensor([m]), torch.tensor([n]), scale_base=512, dtype=F64)
        cos_m, sin_m = cos_sin(angles(torch.tensor([m]), inv_freq(D), dtype=F64))
        cos_n, sin_n = cos_sin(angles(torch.tensor([n]), inv_freq(D), dtype=F64))
        per_pair = (apply_rotary(q, cos_m, sin_m) * apply_rotary(k, cos_n, sin_n)).reshape(D // 2, 2).sum(-1)
        expected = (per_pair * zeta ** ((m - n) / 512)).sum()
        assert torch.allclose((qx * kx).sum(), expected, rtol=1e-10)


def test_xpos_scores_invariant_to_shift():
    """Shifting every position by s (the peers centre positions at T/2 to keep ζ^{±m/B} in range) leaves
    all scores unchanged: the scale factors multiply to ζ^{(m-n)/B}."""
    q, k = randn(1, 2, 20, D, seed=3), randn(1, 2, 20, D, seed=4)
    pos = torch.arange(20) * 37
    base_scores = None
    for shift in (0, -370, 5000):
        qx, kx = apply_xpos(q, k, pos + shift, pos + shift, dtype=F64)
        scores = qx @ kx.transpose(-1, -2)
        if base_scores is None:
            base_scores = scores
        assert torch.allclose(scores, base_scores, rtol=1e-10, atol=1e-10)
