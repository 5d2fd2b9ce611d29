"""Swin Transformer's relative position bias: one learned scalar per head for every 2-D offset in a window.

Liu et al. 2021, "Swin Transformer" (arXiv 2103.14030), eq. (4): inside an M×M window

    Attention(Q, K, V) = SoftMax(Q Kᵀ/√d + B) V,     B ∈ R^{M²×M²} per head,

and since each axis offset lies in [−M+1, M−1] the values of B are taken from a table
B̂ ∈ R^{(2M−1)×(2M−1)} per head, stored flat as `relative_position_bias_table` of shape ((2M−1)², n_heads).
Index construction (official `WindowAttention`, also timm and transformers): tokens in a window are in
row-major order, token i at (h_i, w_i), and for query i and key j

    Δh = h_i − h_j + (M_h − 1) ∈ [0, 2M_h − 2],   Δw = w_i − w_j + (M_w − 1) ∈ [0, 2M_w − 2]
    index[i, j] = Δh · (2M_w − 1) + Δw                (row-major position in the (2M_h−1)×(2M_w−1) table)

so B[h, i, j] = table[index[i, j], h]: the bias depends on the offset only, never on where the pair sits.

Fine-tuning with another window size (e.g. 7 -> 12 for 384×384 inputs) resizes each head's
(2M−1)×(2M−1) table image with bicubic interpolation (Swin's `load_pretrained`, align_corners=False),
which *stretches* the table: new offset Δ reads the old table near Δ·(2M_old−1)/(2M_new−1).
Swin-V2 (Liu et al. 2022, arXiv 2111.09883) instead feeds log-spaced coordinates
Δ̂ = sign(Δ)·log(1 + |Δ|) to a small MLP (continuous position bias), so new windows only extrapolate a little.

Shapes: index (M_h·M_w, M_h·M_w) int64; table ((2M_h−1)(2M_w−1), n_heads); bias (n_heads, M_h·M_w, M_h·M_w).

Claims (each proved by the named test):
- the index is a function of the offset (Δh, Δw) only and hits every one of the (2M−1)² rows
  (tests/claims/test_vision_swin.py::test_index_depends_only_on_offset_and_covers_table)
- the bias added to a window's scores is translation invariant: shifting both tokens leaves it unchanged
  (tests/claims/test_vision_swin.py::test_bias_is_translation_invariant)
- bicubic resizing keeps the table for the same window and stretches offsets for a larger one
  (tests/claims/test_vision_swin.py::test_resize_keeps_same_window_and_stretches_offsets)
- log spacing shrinks the 8 -> 16 window extrapolation from 1.14× to 0.33× of the trained range
  (tests/claims/test_vision_swin.py::test_log_spacing_reduces_extrapolation)
- equals timm gen_relative_position_index / resize_rel_pos_bias_table_simple and transformers
  SwinRelativePositionBias (tests/peers/test_vision_peers.py)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

Window = tuple[int, int]


def window_coords(window: Window) -> Tensor:
    """(M_h·M_w, 2) int64 (row, col) of each token of a window in row-major order."""
    mh, mw = window
    return torch.stack([torch.arange(mh).repeat_interleave(mw), torch.arange(mw).repeat(mh)], dim=-1)


def relative_offsets(window: Window) -> Tensor:
    """(N, N, 2) offsets (h_i − h_j, w_i − w_j) between query i and key j, N = M_h·M_w."""
    c = window_coords(window)
    return c[:, None, :] - c[None, :, :]


def table_size(window: Window) -> int:
    """(2M_h − 1)(2M_w − 1): the number of distinct 2-D offsets, hence rows of the table."""
    return (2 * window[0] - 1) * (2 * window[1] - 1)


def relative_position_index(window: Window) -> Tensor:
    """index[i, j] = (Δh + M_h − 1)(2M_w − 1) + (Δw + M_w − 1), shape (N, N) int64."""
    mh, mw = window
    off = relative_offsets(window)
    return (off[..., 0] + mh - 1) * (2 * mw - 1) + (off[..., 1] + mw - 1)


def relative_position_bias(table: Tensor, window: Window) -> Tensor:
    """B[h, i, j] = table[index[i, j], h], shape (n_heads, N, N): add it to the (B·nW, H, N, N) logits."""
    if table.shape[0] != table_size(window):
        raise ValueError(f"a {window} window needs a table with {table_size(window)} rows, got {table.shape[0]}")
    n = window[0] * window[1]
    index = relative_position_index(window)
    return table[index.reshape(-1)].reshape(n, n, -1).permute(2, 0, 1).contiguous()


def init_bias_table(window: Window, n_heads: int, *, std: float = 0.02, generator: torch.Generator | None = None) -> Tensor:
    """A fresh ((2M_h−1)(2M_w−1), n_heads) table, truncated normal with std 0.02 as in Swin (timm trunc_normal_)."""
    table = torch.empty(table_size(window), n_heads)
    return torch.nn.init.trunc_normal_(table, std=std, generator=generator)


def resize_bias_table(table: Tensor, old_window: Window, new_window: Window, *, mode: str = "bicubic") -> Tensor:
    """Bicubic-resize each head's (2M−1)×(2M−1) table image to the new window (Swin load_pretrained)."""
    if tuple(old_window) == tuple(new_window):
        return table.clone()
    sh, sw = 2 * old_window[0] - 1, 2 * old_window[1] - 1
    dh, dw = 2 * new_window[0] - 1, 2 * new_window[1] - 1
    heads = table.shape[1]
    image = table.to(torch.float64).T.reshape(1, heads, sh, sw)  # (1, H, 2M−1, 2M−1)
    resized = F.interpolate(image, size=(dh, dw), mode=mode, align_corners=False)
    return resized.reshape(heads, dh * dw).T.contiguous().to(table.dtype)


def log_spaced(delta: Tensor) -> Tensor:
    """Swin-V2's coordinate map Δ̂ = sign(Δ)·ln(1 + |Δ|) (paper form, natural log)."""
    delta = delta.to(torch.float64)
    return torch.sign(delta) * torch.log1p(delta.abs())


def log_coords_table(window: Window, pretrained_window: Window | None = None) -> Tensor:
    """Swin-V2's official `relative_coords_table`, shape (2M_h−1, 2M_w−1, 2), float64.

    Offsets are divided by (M_pre − 1) (the pre-training window, or this one), scaled to [−8, 8], then
    mapped by sign(x)·log2(1 + |x|)/log2(8): the paper's log spacing in the code's normalisation.
    """
    ref = pretrained_window or window
    dh = torch.arange(-(window[0] - 1), window[0], dtype=torch.float64) / (ref[0] - 1)
    dw = torch.arange(-(window[1] - 1), window[1], dtype=torch.float64) / (ref[1] - 1)
    table = torch.stack(torch.meshgrid(dh, dw, indexing="ij"), dim=-1) * 8  # in [−8, 8] for the reference window
    return torch.sign(table) * torch.log2(table.abs() + 1.0) / math.log2(8)


def extrapolation_ratio(old_max: float, new_max: float) -> float:
    """How far beyond the trained coordinate range a new range reaches, as a fraction of the trained range."""
    return (new_max - old_max) / old_max
