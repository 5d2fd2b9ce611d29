"""xPos: RoPE with a per-pair exponential decay of the score (Sun et al. 2023, arXiv 2212.10554).

"A Length-Extrapolatable Transformer" (ACL 2023); formula as in the official torchscale code
(`torchscale/component/xpos_relative_position.py`, class XPOS):

    ζ_i = (2i + γ·R) / ((1 + γ)·R),  i = 0 .. R/2-1,  γ = 0.4   (so 0 < ζ_i < 1, ζ_i grows with i)
    q_m -> RoPE(q, m) · ζ^{ m/B}      k_n -> RoPE(k, n) · ζ^{-n/B}      B = scale_base = 512
    score: Σ_i Re[q_i conj(k_i) e^{i(m-n)θ_i}] · ζ_i^{(m-n)/B}

For a causal model m >= n, so every pair's contribution is damped by ζ_i^{(m-n)/B} <= 1, most for the
high-frequency pairs (small ζ_i). For m < n the factor would grow: xPos is meant for causal attention.
Positions may be shifted by any constant before scaling (the peers centre them to keep ζ^{±m/B}
in range); the score does not change. Layout, dtypes and conventions: see `peprep.encodings.rope`.

Claims:
- the score is RoPE's, each pair times ζ_i^{(m-n)/B}: tests/claims/test_rope_xpos.py::test_xpos_score_is_damped_rope_score
- shifting all positions leaves scores unchanged:   tests/claims/test_rope_xpos.py::test_xpos_scores_invariant_to_shift
Peers: tests/peers/test_rope_peers.py::test_xpos_matches_rotary_embedding_torch, ::test_xpos_matches_x_transformers.
"""

from __future__ import annotations

import torch
from torch import Tensor

from peprep.encodings.rope import Layout, angles, apply_rotary, cos_sin, inv_freq


def xpos_zeta(rotary_dim: int, gamma: float = 0.4) -> Tensor:
    """ζ_i = (2i + γR) / ((1 + γ)R), shape (R/2,), float64."""
    i = torch.arange(rotary_dim // 2, dtype=torch.float64)
    return (2 * i + gamma * rotary_dim) / ((1 + gamma) * rotary_dim)


def xpos_scale(
    positions: Tensor,
    rotary_dim: int,
    *,
    scale_base: float = 512.0,
    layout: Layout = "interleaved",
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """ζ^{m/B} laid out over R channels like cos/sin, shape (..., T, R), computed in float64, returned in `dtype`."""
    power = positions.to(torch.float64)[..., None] / scale_base
    per_pair = (xpos_zeta(rotary_dim).to(positions.device) ** power).to(dtype)  # (..., T, R/2)
    return per_pair.repeat_interleave(2, dim=-1) if layout == "interleaved" else torch.cat((per_pair, per_pair), dim=-1)


def apply_xpos(
    q: Tensor,
    k: Tensor,
    q_positions: Tensor,
    k_positions: Tensor,
    *,
    base: float = 10000.0,
    scale_base: float = 512.0,
    layout: Layout = "interleaved",
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor]:
    """Rotate q (B, H, T_q, D) and k (B, H, T_k, D) as RoPE does, then scale q by ζ^{m/B} and k by ζ^{-n/B}.

    Angles and scales in `dtype` (float32 or float64), like `peprep.encodings.rope.angles`.
    """
    rot = q.shape[-1]
    freqs = inv_freq(rot, base)
    out = []
    for x, pos, sign in ((q, q_positions, 1.0), (k, k_positions, -1.0)):
        cos, sin = cos_sin(angles(pos, freqs, dtype=dtype), layout)
        scale = xpos_scale(pos, rot, scale_base=scale_base, layout=layout, dtype=dtype) ** sign
        out.append(apply_rotary(x, cos * scale, sin * scale, layout=layout))
    return out[0], out[1]
