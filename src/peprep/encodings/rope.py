"""Rotary position embedding (RoPE): rotate q and k by an angle proportional to their position.

Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding" (arXiv 2104.09864),
eqs. (12)-(16) and (34). Every pair of channels of a query or key at position m is rotated by m·θ_i:

    θ_i = base^(-2i/R),  i = 0 .. R/2-1      (the paper writes 10000^(-2(i-1)/d), i = 1 .. d/2)
    f(x, m)_pair_i = R(m θ_i) x_pair_i,       R(a) = [[cos a, -sin a], [sin a, cos a]]
    <f(q, m), f(k, n)> = q^T R_{n-m} k        the score sees only the offset n - m

Conventions (stated once, used everywhere in this module):

    layout (B, H, T, D): batch, heads, positions, head dimension; R = rotary_dim <= D, even.
    Only the first R channels are rotated (partial rotary, GPT-NeoX / GPT-J); the rest pass through.
    "interleaved" (the canonical convention of the content): pair i = channels (2i, 2i+1),
        as in RoFormer, Meta's LLaMA (complex view of adjacent channels), GPT-J, rotary-embedding-torch.
    "half": pair i = channels (i, i + R/2), rotated with `rotate_half`, as in GPT-NeoX and
        Hugging Face `transformers` (cos = cat(freqs, freqs)).
    The two layouts are the same map up to a fixed permutation of channels (`half_from_interleaved_index`);
    a checkpoint moves between them by permuting the rows of W_q and W_k (`permute_qk_weight`), which is
    what `convert_llama_weights_to_hf.py` does to Meta's weights.

Angles m·θ_i are computed in float32 (or float64) whatever the dtype of q and k: in bfloat16 the
integer positions above 256 are not even representable (`angles`).

Pure functions first; `RotaryEmbedding` is a thin module with a cos/sin cache on top. `apply_rotary`
is the readable reference; `rope_fast.apply_rotary_` is the fast in-place variant (same numbers, tested).

Claims (each proved by a test):
- the score depends only on m - n:            tests/claims/test_rope.py::test_score_depends_only_on_offset
- rotation preserves norms:                   tests/claims/test_rope.py::test_rotation_preserves_norm
- R_m^T R_n = R_{n-m} (matrix form, eq. 15):   tests/claims/test_rope.py::test_rotation_matrices_compose
- elementwise form = block-diagonal matrix:   tests/claims/test_rope.py::test_elementwise_equals_block_diagonal_matrix
- complex form = real form:                   tests/claims/test_rope.py::test_complex_form_equals_real_form
- layouts agree up to the permutation:        tests/claims/test_rope_layouts.py::test_layouts_give_same_scores_after_permutation
- the Abel-summation bound holds:             tests/claims/test_rope_decay.py::test_abel_bound_holds
- bf16 angles are wrong at large m:           tests/claims/test_rope_precision.py::test_bf16_angle_error_at_8192
Peers: tests/peers/test_rope_peers.py (transformers, rotary-embedding-torch, x-transformers, GPT-J, GPT-NeoX, timm).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

Layout = Literal["interleaved", "half"]
LAYOUTS: tuple[Layout, ...] = ("interleaved", "half")
ANGLE_DTYPES = (torch.float32, torch.float64)


def _check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def rotary_dim_for(head_dim: int, partial_rotary_factor: float = 1.0) -> int:
    """R = int(D · factor), the number of rotated channels (HF `partial_rotary_factor`, GPT-NeoX `rotary_pct`)."""
    rotary_dim = int(head_dim * partial_rotary_factor)
    if rotary_dim % 2 or not 0 < rotary_dim <= head_dim:
        raise ValueError(
            f"rotary_dim={rotary_dim} (head_dim={head_dim} x {partial_rotary_factor}) must be even and in (0, head_dim]"
        )
    return rotary_dim


def inv_freq(rotary_dim: int, base: float = 10000.0, *, dtype: torch.dtype = torch.float64) -> Tensor:
    """θ_i = base^(-2i/R) for i = 0 .. R/2-1, shape (R/2,). θ_0 = 1 rad/token; θ_i falls geometrically."""
    if rotary_dim % 2 or rotary_dim <= 0:
        raise ValueError(f"rotary_dim must be a positive even number, got {rotary_dim}")
    i = torch.arange(rotary_dim // 2, dtype=torch.float64)
    return (float(base) ** (-2.0 * i / rotary_dim)).to(dtype)


def wavelengths(rotary_dim: int, base: float = 10000.0) -> Tensor:
    """λ_i = 2π / θ_i = 2π · base^(2i/R) tokens: after λ_i positions pair i has turned a full circle."""
    return 2 * math.pi / inv_freq(rotary_dim, base)


def angles(positions: Tensor, inv_freq: Tensor, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """m·θ_i, shape (..., T, R/2) for positions (..., T), computed in `dtype` (float32 or float64).

    Pass integer positions: a position tensor that is already bfloat16 has lost the integers above
    256 before this function can help (tests/claims/test_rope_precision.py).
    """
    if dtype not in ANGLE_DTYPES:
        raise ValueError(f"angles must be computed in float32 or float64, got {dtype}")
    return positions.to(dtype)[..., None] * inv_freq.to(device=positions.device, dtype=dtype)


def cos_sin(angle: Tensor, layout: Layout = "interleaved") -> tuple[Tensor, Tensor]:
    """cos and sin of the angles laid out over R channels, each (..., T, R).

    interleaved: [a_0, a_0, a_1, a_1, ...]      half: [a_0, a_1, ..., a_0, a_1, ...]
    """
    _check_layout(layout)
    full = angle.repeat_interleave(2, dim=-1) if layout == "interleaved" else torch.cat((angle, angle), dim=-1)
    return full.cos(), full.sin()


def rotate_pairs(x: Tensor) -> Tensor:
    """(x_0, x_1, x_2, x_3, ...) -> (-x_1, x_0, -x_3, x_2, ...): multiplication by i on adjacent pairs."""
    return torch.stack((-x[..., 1::2], x[..., 0::2]), dim=-1).flatten(-2)


def rotate_half(x: Tensor) -> Tensor:
    """(x_a, x_b) -> (-x_b, x_a) for the two halves: multiplication by i on pairs (j, j + R/2)."""
    x_a, x_b = x.chunk(2, dim=-1)
    return torch.cat((-x_b, x_a), dim=-1)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor, *, layout: Layout = "interleaved") -> Tensor:
    """RoPE on the first R = cos.shape[-1] channels of x: x·cos + rotate(x)·sin; the rest pass through.

    x: (B, H, T, D) (any leading axes). cos, sin: (T, R), or (B, T, R) per-sequence positions, in which
    case a head axis is inserted. Computed in the wider of x's and cos's dtypes, returned in x's dtype.
    """
    _check_layout(layout)
    rot = cos.shape[-1]
    if rot > x.shape[-1] or rot % 2:
        raise ValueError(f"cos/sin cover {rot} channels but x has {x.shape[-1]} (rotary_dim must be even and <= D)")
    if cos.ndim == x.ndim - 1 and cos.ndim >= 3:  # (B, T, R) -> (B, 1, T, R): same rotation for every head
        cos, sin = cos.unsqueeze(-3), sin.unsqueeze(-3)
    x_rot, x_pass = x[..., :rot], x[..., rot:]
    rotate = rotate_pairs if layout == "interleaved" else rotate_half
    work = torch.promote_types(x.dtype, cos.dtype)
    x_rot = x_rot.to(work)
    out = x_rot * cos.to(work) + rotate(x_rot) * sin.to(work)  # (B, H, T, R)
    return torch.cat((out.to(x.dtype), x_pass), dim=-1)


def apply_rotary_complex(x: Tensor, angle: Tensor) -> Tensor:
    """Reference form f(x, m) = x·e^{i m θ} on complex numbers x_{2i} + i·x_{2i+1} (interleaved only).

    This is the paper's eq. (12) and Meta's `apply_rotary_emb` (torch.view_as_complex on adjacent
    channels). angle: (T, R/2) or broadcastable to x's leading axes; R = 2·angle.shape[-1] <= D.
    """
    rot = 2 * angle.shape[-1]
    real = torch.float64 if torch.float64 in (x.dtype, angle.dtype) else torch.float32
    pairs = x[..., :rot].to(real).reshape(*x.shape[:-1], rot // 2, 2).contiguous()
    z = torch.view_as_complex(pairs) * torch.polar(torch.ones_like(angle, dtype=real), angle.to(real))
    return torch.cat((torch.view_as_real(z).flatten(-2).to(x.dtype), x[..., rot:]), dim=-1)


def rotation_matrix(position: float, inv_freq: Tensor) -> Tensor:
    """R^d_{Θ,m}: the (R, R) block-diagonal matrix of eq. (15), interleaved pairs, float64."""
    blocks = []
    for theta in inv_freq.to(torch.float64):
        a = position * theta
        blocks.append(torch.stack((torch.stack((a.cos(), -a.sin())), torch.stack((a.sin(), a.cos())))))
    return torch.block_diag(*blocks)


def rope(
    x: Tensor,
    positions: Tensor,
    *,
    base: float = 10000.0,
    layout: Layout = "interleaved",
    rotary_dim: int | None = None,
) -> Tensor:
    """One call: rotate x (B, H, T, D) at positions (T,) or (B, T), angles in float32."""
    rotary_dim = rotary_dim or x.shape[-1]
    cos, sin = cos_sin(angles(positions, inv_freq(rotary_dim, base)), layout)
    return apply_rotary(x, cos, sin, layout=layout)


# --- the two layouts and checkpoint conversion -------------------------------------------------


def half_from_interleaved_index(rotary_dim: int) -> Tensor:
    """idx with x_half = x_interleaved[..., idx]: [0, 2, ..., R-2, 1, 3, ..., R-1].

    Channel j < R/2 of the half layout is the first coordinate of pair j (channel 2j interleaved),
    channel j + R/2 its second coordinate (channel 2j+1).
    """
    return torch.cat((torch.arange(0, rotary_dim, 2), torch.arange(1, rotary_dim, 2)))


def interleaved_from_half_index(rotary_dim: int) -> Tensor:
    """The inverse permutation: x_interleaved = x_half[..., idx]."""
    return torch.argsort(half_from_interleaved_index(rotary_dim))


def permute_qk_weight(weight: Tensor, n_heads: int, *, to: Layout = "half") -> Tensor:
    """Reorder the output rows of a q or k projection (nn.Linear weight, (n_heads·D, C)) per head.

    to="half" turns a checkpoint trained with interleaved RoPE (Meta LLaMA) into one for the half
    layout (Hugging Face) — the `permute` of convert_llama_weights_to_hf.py; to="interleaved" undoes it.
    Use the number of key/value heads for W_k under GQA. A q/k bias vector needs the same reordering.
    """
    _check_layout(to)
    rows, cols = weight.shape
    if rows % n_heads or (rows // n_heads) % 2:
        raise ValueError(f"{rows} rows do not split into {n_heads} heads of even size")
    head_dim = rows // n_heads
    idx = half_from_interleaved_index(head_dim) if to == "half" else interleaved_from_half_index(head_dim)
    return weight.reshape(n_heads, head_dim, cols)[:, idx.to(weight.device)].reshape(rows, cols)


# --- long-term decay (RoFormer §3.4.3) ---------------------------------------------------------


def partial_sums(distance: Tensor, rotary_dim: int, base: float = 10000.0) -> Tensor:
    """|S_j| for j = 1 .. R/2, S_j = Σ_{i<j} e^{i·Δ·θ_i}; shape (..., R/2) for distances (...), float64."""
    phase = distance.to(torch.float64)[..., None] * inv_freq(rotary_dim, base)
    return torch.polar(torch.ones_like(phase), phase).cumsum(dim=-1).abs()


def decay_bound(distance: Tensor, rotary_dim: int, base: float = 10000.0) -> Tensor:
    """(1/(R/2)) Σ_{j=1}^{R/2} |S_j|: the relative upper bound plotted in RoFormer Figure 2.

    With h_i = q_pair_i · conj(k_pair_i), |score| <= (max_i |h_{i+1} - h_i|) · (R/2) · decay_bound.
    A bound on the score's size, not the score: see tests/claims/test_rope_decay.py.
    """
    return partial_sums(distance, rotary_dim, base).mean(dim=-1)


def similar_key_score(distance: Tensor, rotary_dim: int, base: float = 10000.0) -> Tensor:
    """E[q^T R_Δ k] for k = q, q ~ N(0, I_R): Σ_i 2·cos(Δ·θ_i) (each pair contributes E|q_pair|² cos).

    For independent q and k the same expectation is 0 at every distance.
    """
    phase = distance.to(torch.float64)[..., None] * inv_freq(rotary_dim, base)
    return 2 * phase.cos().sum(dim=-1)


# --- thin module ----------------------------------------------------------------------------------


class RotaryEmbedding(nn.Module):
    """Rotate q and k (B, H, T, D) at integer positions, with a cos/sin table cached per device.

    The frequencies are kept as a plain float64 tensor, not a buffer, so `model.to(torch.bfloat16)`
    cannot round them (the Mistral precision bug, transformers issue #29496); angles are float32.
    """

    def __init__(
        self,
        head_dim: int,
        *,
        base: float = 10000.0,
        layout: Layout = "interleaved",
        partial_rotary_factor: float = 1.0,
    ):
        super().__init__()
        _check_layout(layout)
        self.head_dim, self.base, self.layout = head_dim, float(base), layout
        self.rotary_dim = rotary_dim_for(head_dim, partial_rotary_factor)
        self.inv_freq = inv_freq(self.rotary_dim, self.base)  # float64, (R/2,)
        self._cos: Tensor | None = None  # (n_cached, R) float32
        self._sin: Tensor | None = None

    def cos_sin_table(self, n_positions: int, device: torch.device) -> tuple[Tensor, Tensor]:
        """cos, sin for positions 0 .. n_positions-1, each (n_positions, R); rebuilt only when too short."""
        if self._cos is None or self._cos.shape[0] < n_positions or self._cos.device != device:
            grid = torch.arange(n_positions, device=device)
            self._cos, self._sin = cos_sin(angles(grid, self.inv_freq), self.layout)
        return self._cos, self._sin

    def forward(
        self, q: Tensor, k: Tensor, positions: Tensor | None = None, *, offset: int = 0
    ) -> tuple[Tensor, Tensor]:
        """positions: (T,) or (B, T) integers; default offset + arange(T) (a KV cache's past length)."""
        if positions is None:
            positions = torch.arange(offset, offset + q.shape[-2], device=q.device)
        if positions.min() < 0:
            raise ValueError("positions must be non-negative")
        cos_t, sin_t = self.cos_sin_table(int(positions.max()) + 1, q.device)
        cos, sin = cos_t[positions], sin_t[positions]  # (T, R) or (B, T, R)
        return apply_rotary(q, cos, sin, layout=self.layout), apply_rotary(k, cos, sin, layout=self.layout)
