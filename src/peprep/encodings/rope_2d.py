"""2-D rotary position embedding for image patches: axial (split the pairs between x and y) and mixed.

RoPE rotates channel pair i of a query/key at position m by m·θ_i (`peprep.encodings.rope`). An image
patch has two coordinates, row y and column x. Two ways to turn that into rotation angles, both from
Heo et al. 2024, "Rotary Position Embedding for Vision Transformer" (RoPE-ViT, arXiv 2403.13298;
official code naver-ai/rope-vit):

    axial:  pairs 0 … D/4−1 rotate by x·θ_k, pairs D/4 … D/2−1 by y·θ_k,  θ_k = base^(−4k/D)
            (RoPE-ViT: base = 100; each axis is 1-D RoPE on half of the channels)
    mixed:  pair t rotates by x·f^x_t + y·f^y_t with learnable (f^x_t, f^y_t) per head and per layer
            (RoPE-Mixed; RoPE-ViT initialises magnitudes 10^(−4k/D), k < D/4, for both halves of the
            pairs, pointing along a random angle α per head and along α + π/2)

Either way the angle is linear in the coordinates, so for a query at p and a key at p' the score is
qᵀ R(p)ᵀ R(p') k = qᵀ R(p' − p) k: it depends on the offset (Δy, Δx) only. Axial angles give a score
that is a *sum* f(Δx) + g(Δy) of a column term and a row term; mixed frequencies can depend on
combinations such as Δx + Δy (diagonals), which is RoPE-Mixed's argument.

Other codebases order things differently: Qwen2-VL's vision encoder (transformers
Qwen2VLVisionRotaryEmbedding) puts the row block first, uses base 10000 and the half layout
(cat(freqs, freqs) + rotate_half); RoPE-ViT puts x first and uses complex (interleaved) pairs and
leaves the [CLS] token unrotated. Here `first="x"` or `"y"` and `layout` select these conventions.

Shapes: rows, cols (N,) -> angles (N, D/2); q, k (B, H, N, D).

Claims (each proved by the named test):
- axial score depends only on (Δy, Δx) (tests/claims/test_vision_rope2d.py::test_axial_score_depends_only_on_offset)
- axial score splits into a column part and a row part, each a 1-D RoPE score on half the channels
  (tests/claims/test_vision_rope2d.py::test_axial_score_is_sum_of_row_and_column_rope)
- mixed frequencies keep relativity and can see diagonals, which no axial score does
  (tests/claims/test_vision_rope2d.py::test_mixed_is_relative_and_sees_diagonals)
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from peprep.encodings.rope import Layout, apply_rotary, cos_sin, inv_freq

Axis = Literal["x", "y"]
AXIAL_BASE = 100.0  # RoPE-ViT's RoPE-Axial (rope_theta=100.0); Qwen2-VL's vision encoder uses 10000
MIXED_INIT_BASE = 10.0  # RoPE-ViT's RoPE-Mixed initialisation (rope_theta=10.0)


def _check_head_dim(head_dim: int) -> None:
    if head_dim < 4 or head_dim % 4:
        raise ValueError(f"2-D RoPE needs head_dim divisible by 4 (pairs split between two axes), got {head_dim}")


def axial_frequencies(head_dim: int, base: float = AXIAL_BASE) -> Tensor:
    """θ_k = base^(−4k/D), k = 0 … D/4−1, float64: 1-D RoPE frequencies for a rotary width of D/2."""
    _check_head_dim(head_dim)
    return inv_freq(head_dim // 2, base)


def axial_angles(rows: Tensor, cols: Tensor, head_dim: int, base: float = AXIAL_BASE, *, first: Axis = "x") -> Tensor:
    """(N, D/2) angles: [x·θ | y·θ] (first="x", RoPE-ViT) or [y·θ | x·θ] (first="y", Qwen2-VL vision), float64."""
    theta = axial_frequencies(head_dim, base)  # (D/4,)
    ax = cols.to(torch.float64)[:, None] * theta  # (N, D/4)
    ay = rows.to(torch.float64)[:, None] * theta
    if first not in ("x", "y"):
        raise ValueError(f"first must be 'x' or 'y', got {first!r}")
    return torch.cat([ax, ay] if first == "x" else [ay, ax], dim=-1)


def init_mixed_frequencies(
    head_dim: int, n_heads: int, base: float = MIXED_INIT_BASE, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """RoPE-Mixed initial (f^x, f^y), each (n_heads, D/2), float64.

    Magnitudes m_k = base^(−4k/D) for k < D/4, used twice; per head a random direction α:
    the first D/4 pairs point along α, the next D/4 along α + π/2 (rope-vit init_random_2d_freqs).
    """
    _check_head_dim(head_dim)
    mag = inv_freq(head_dim // 2, base)  # (D/4,)
    alpha = torch.rand(n_heads, 1, generator=generator, dtype=torch.float64) * 2 * math.pi  # (H, 1)
    fx = torch.cat([mag * torch.cos(alpha), mag * torch.cos(alpha + math.pi / 2)], dim=-1)  # (H, D/2)
    fy = torch.cat([mag * torch.sin(alpha), mag * torch.sin(alpha + math.pi / 2)], dim=-1)
    return fx, fy


def mixed_angles(rows: Tensor, cols: Tensor, freqs_x: Tensor, freqs_y: Tensor) -> Tensor:
    """Angles x·f^x_t + y·f^y_t, shape (..., N, D/2) for frequencies (..., D/2) (e.g. one row per head)."""
    x = cols.to(torch.float64)[:, None]  # (N, 1)
    y = rows.to(torch.float64)[:, None]
    return x * freqs_x[..., None, :] + y * freqs_y[..., None, :]


def rope_2d(x: Tensor, angles: Tensor, *, layout: Layout = "interleaved") -> Tensor:
    """Rotate x (B, H, N, D) by per-token angles (N, D/2) or per-head angles (H, N, D/2)."""
    cos, sin = cos_sin(angles, layout)  # (N, D) or (H, N, D)
    if cos.ndim == 3:  # per-head angles: (1, H, N, D), so apply_rotary does not read H as a batch axis
        cos, sin = cos[None], sin[None]
    return apply_rotary(x, cos, sin, layout=layout)


def score_map(
    q: Tensor, k: Tensor, angles: Tensor, query: int, height: int, width: int, *, layout: Layout = "interleaved"
) -> Tensor:
    """(H, W) map of the score between one rotated query (at token `query`) and the same key at every patch.

    q, k: (D,) vectors; angles (H·W, D/2). Score = R(p_q) q · R(p_t) k, unscaled.
    """
    n = height * width
    qs = rope_2d(q.to(torch.float64).expand(1, 1, n, -1), angles, layout=layout)[0, 0]  # (N, D)
    ks = rope_2d(k.to(torch.float64).expand(1, 1, n, -1), angles, layout=layout)[0, 0]
    return (ks @ qs[query]).view(height, width)
