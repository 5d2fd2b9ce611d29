"""Sinusoidal absolute positional encoding: Vaswani et al. 2017 (arXiv 1706.03762), §3.5.

The paper's formula, 0-based position p and 0-based pair index i = 0 … d/2 − 1:

    PE(p, 2i)   = sin(p · ω_i)
    PE(p, 2i+1) = cos(p · ω_i)          ω_i = base^(−2i/d),  base = 10000

Frequency *falls* as i grows (ω_0 = 1, ω_{d/2−1} = base^(−(d−2)/d)); wavelengths λ_i = 2π/ω_i form a
geometric progression from 2π up to (just under) base·2π. The encoding is added once to the
(√d-scaled) token embeddings at the input, and dropout acts on the sum (§3.4, §5.4).

Two conventions this module makes explicit (the encoding is a *set* of sin/cos channels; codebases
order and space them differently):

    layout  "interleaved"  [sin ω_0 p, cos ω_0 p, sin ω_1 p, cos ω_1 p, …]        the paper; XLM,
                                                                                 positional-encodings
            "halves"       [sin ω_0 p, …, sin ω_{d/2−1} p, cos ω_0 p, …, cos ω_{d/2−1} p]
                                                                 tensor2tensor, fairseq, Marian, x-transformers
    spacing "paper"        ω_i = base^(−2i/d)           lowest frequency base^(−(d−2)/d)
            "t2t"          ω_i = base^(−i/(d/2 − 1))    lowest frequency exactly 1/base
                           (tensor2tensor's get_timing_signal_1d divides log(max/min) by
                            num_timescales − 1; fairseq and HF M2M100 copy it)

The layouts differ by a fixed permutation of channels (`layout_permutation`); the spacings are
different encodings. Positions are a tensor of any shape and any real values, so offsets (a KV
cache's past length) and non-integer positions (interpolation) need nothing special.

Shapes: positions (...,) -> encoding (..., d). Model inputs x are (B, T, C) with C = d.

Claims (each proved by the named test):
- PE(p + k) = M(k) PE(p) with M(k) the block rotation `shift_matrix(k)`, for every p and real k
  (tests/claims/test_absolute.py::test_shift_is_block_rotation)
- PE(p)·PE(p + k) = Σ_i cos(ω_i k) depends on k only, is even in k, and is not monotone
  (tests/claims/test_absolute.py::test_dot_product_depends_only_on_offset,
   ::test_dot_product_is_symmetric_in_offset, ::test_dot_product_is_not_monotone)
- wavelengths run from exactly 2π up to base^((d−2)/d)·2π ("paper") or exactly base·2π ("t2t")
  (tests/claims/test_absolute.py::test_wavelength_range_paper, ::test_wavelength_range_t2t)
- the two layouts are one permutation apart (tests/claims/test_absolute.py::test_layouts_differ_by_permutation)
- ‖PE(p)‖² = d/2 for every p (tests/claims/test_absolute.py::test_norm_is_constant)
- equals positional-encodings, x-transformers, transformers (Marian, XLM, M2M100) and timm
  (tests/peers/test_absolute_peers.py)
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

Layout = Literal["interleaved", "halves"]
Spacing = Literal["paper", "t2t"]

BASE = 10000.0  # the paper's constant: the longest wavelength is (about) BASE · 2π


def _check(d: int, base: float) -> None:
    if d < 2 or d % 2:
        raise ValueError(f"sinusoidal encoding needs an even d >= 2 (one sin and one cos per frequency), got d={d}")
    if not base > 1.0:
        raise ValueError(f"base must be > 1 so that frequencies fall with the pair index, got base={base}")


def sinusoidal_frequencies(
    d: int, base: float = BASE, *, spacing: Spacing = "paper", dtype: torch.dtype = torch.float64
) -> Tensor:
    """Angular frequencies ω_i, i = 0 … d/2 − 1, shape (d/2,); ω_0 = 1 and ω falls with i.

    "paper": ω_i = base^(−2i/d).  "t2t": ω_i = base^(−i/max(d/2 − 1, 1)) (tensor2tensor).
    """
    _check(d, base)
    i = torch.arange(d // 2, dtype=torch.float64)
    if spacing == "paper":
        exponent = 2.0 * i / d
    elif spacing == "t2t":
        exponent = i / max(d // 2 - 1, 1)  # t2t guards d = 2 the same way: max(num_timescales − 1, 1)
    else:
        raise ValueError(f"spacing must be 'paper' or 't2t', got {spacing!r}")
    return torch.exp(-exponent * math.log(base)).to(dtype)  # (d/2,)


def sinusoidal_wavelengths(d: int, base: float = BASE, *, spacing: Spacing = "paper") -> Tensor:
    """λ_i = 2π / ω_i in positions, shape (d/2,), float64; a geometric progression starting at 2π."""
    return 2.0 * math.pi / sinusoidal_frequencies(d, base, spacing=spacing)


def layout_permutation(d: int) -> Tensor:
    """Index `perm` with halves = interleaved[..., perm], shape (d,).

    perm = [0, 2, 4, …, d−2, 1, 3, …, d−1]: all sin channels first, then all cos channels.
    The inverse (halves -> interleaved) is `torch.argsort(perm)`.
    """
    _check(d, 2.0)
    return torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])


def convert_layout(x: Tensor, src: Layout, dst: Layout) -> Tensor:
    """Reorder the last dimension of an encoding (or of any vector laid out like one) from src to dst."""
    if src == dst:
        return x
    perm = layout_permutation(x.shape[-1])
    if (src, dst) == ("interleaved", "halves"):
        return x[..., perm]
    if (src, dst) == ("halves", "interleaved"):
        return x[..., torch.argsort(perm)]
    raise ValueError(f"layouts are 'interleaved' and 'halves', got {src!r} -> {dst!r}")


def sinusoidal_encoding(
    positions: Tensor,
    d: int,
    base: float = BASE,
    *,
    layout: Layout = "interleaved",
    spacing: Spacing = "paper",
    dtype: torch.dtype | None = None,
) -> Tensor:
    """PE(positions), shape (*positions.shape, d).

    Positions may be any real numbers (offsets, non-integers, negatives). The result has the
    positions' dtype when they are floating, else `dtype` (default: torch's default dtype).
    Angles and sin/cos are computed in float64 and rounded once: computing p·ω in float32 would
    lose about p·2⁻²⁴ radians of phase at position p (what float32 peers do).
    """
    if dtype is None:
        dtype = positions.dtype if positions.is_floating_point() else torch.get_default_dtype()
    omega = sinusoidal_frequencies(d, base, spacing=spacing).to(device=positions.device)  # (d/2,) float64
    angles = positions.to(torch.float64)[..., None] * omega  # (..., d/2): p · ω_i, in float64
    sin, cos = angles.sin().to(dtype), angles.cos().to(dtype)  # round once, after sin/cos
    if layout == "interleaved":
        return torch.stack([sin, cos], dim=-1).flatten(-2)  # (..., d): sin_0, cos_0, sin_1, cos_1, …
    if layout == "halves":
        return torch.cat([sin, cos], dim=-1)  # (..., d): sin_0 … sin_{d/2−1}, cos_0 … cos_{d/2−1}
    raise ValueError(f"layout must be 'interleaved' or 'halves', got {layout!r}")


def sinusoidal_table(
    n_positions: int,
    d: int,
    base: float = BASE,
    *,
    offset: float = 0,
    layout: Layout = "interleaved",
    spacing: Spacing = "paper",
    dtype: torch.dtype | None = None,
) -> Tensor:
    """The (n_positions, d) table for positions offset, offset+1, …, offset+n_positions−1."""
    positions = torch.arange(n_positions, dtype=torch.float64) + offset
    return sinusoidal_encoding(positions, d, base, layout=layout, spacing=spacing,
                               dtype=dtype or torch.get_default_dtype())


def shift_matrix(
    k: float, d: int, base: float = BASE, *, layout: Layout = "interleaved", spacing: Spacing = "paper"
) -> Tensor:
    """M(k), shape (d, d), float64, with PE(p + k) = M(k) @ PE(p) for every p (column vectors).

    Interleaved: block-diagonal with one 2×2 block per frequency acting on (sin, cos):
        [[cos ω_i k,  sin ω_i k],
         [−sin ω_i k, cos ω_i k]]      (a rotation by −ω_i k; orthogonal, det 1)
    because sin(a+b) = sin a cos b + cos a sin b and cos(a+b) = cos a cos b − sin a sin b.
    M depends on k, d, base and spacing, never on p. Halves: the same map with rows and columns permuted.
    """
    omega_k = sinusoidal_frequencies(d, base, spacing=spacing) * k  # (d/2,)
    c, s = omega_k.cos(), omega_k.sin()
    blocks = torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)  # (d/2, 2, 2)
    m = torch.block_diag(*blocks)  # (d, d), interleaved order
    if layout == "interleaved":
        return m
    perm = layout_permutation(d)
    return m[perm][:, perm]


def sinusoidal_dot(
    k: Tensor | float, d: int, base: float = BASE, *, spacing: Spacing = "paper"
) -> Tensor:
    """PE(p)·PE(p + k) = Σ_i cos(ω_i k) for every p; shape of k, float64. Equals d/2 at k = 0."""
    k = torch.as_tensor(k, dtype=torch.float64)
    omega = sinusoidal_frequencies(d, base, spacing=spacing)
    return torch.cos(k[..., None] * omega).sum(-1)


class SinusoidalPositionalEncoding(nn.Module):
    """x + PE(positions) for x of shape (B, T, C); no parameters, nothing cached.

    `positions` (T,) or (B, T) overrides the default offset, offset+1, …, offset+T−1 (e.g. a KV
    cache passes offset = past length; left-padded batches pass per-row positions).
    """

    def __init__(self, d_model: int, base: float = BASE, *, layout: Layout = "interleaved", spacing: Spacing = "paper"):
        super().__init__()
        _check(d_model, base)
        self.d_model, self.base, self.layout, self.spacing = d_model, base, layout, spacing

    def forward(self, x: Tensor, *, positions: Tensor | None = None, offset: float = 0) -> Tensor:
        if positions is None:
            positions = torch.arange(x.shape[1], device=x.device, dtype=torch.float64) + offset  # (T,)
        pe = sinusoidal_encoding(positions, self.d_model, self.base, layout=self.layout,
                                 spacing=self.spacing, dtype=x.dtype)  # (T, C) or (B, T, C)
        return x + pe


class TransformerInputEmbedding(nn.Module):
    """The original Transformer's input: dropout(E[token]·√d_model + PE(position)).

    §3.4 multiplies the (shared) embedding weights by √d_model; §5.4 applies dropout (0.1 in the
    base model) to the sum. The table is initialised N(0, d^(−1/2)) as in tensor2tensor's symbol
    modality, so a scaled row has squared norm ≈ d while ‖PE(p)‖² = d/2 exactly
    (tests/claims/test_absolute.py::test_sqrt_d_scaling_balances_embedding_and_pe).
    """

    def __init__(self, vocab_size: int, d_model: int, *, dropout: float = 0.1, base: float = BASE):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embed.weight, std=d_model**-0.5)
        self.pe = SinusoidalPositionalEncoding(d_model, base)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens: Tensor, *, offset: int = 0) -> Tensor:
        x = self.embed(tokens) * math.sqrt(self.d_model)  # (B, T, C)
        return self.dropout(self.pe(x, offset=offset))
