"""Fixed 2-D sine-cosine position embeddings: half of the channels encode the column, half the row.

MoCo v3 (Chen, Xie & He 2021, arXiv 2104.02057, `vits.py` build_2d_sincos_position_embedding) and MAE
(He et al. 2022, arXiv 2111.06377, `util/pos_embed.py` get_2d_sincos_pos_embed) give a ViT a *fixed*
table instead of ViT's learned one. For a patch in row y (0 … H−1) and column x (0 … W−1), embedding
width D divisible by 4 and F = D/4:

    ω_k = base^(−k/F),  k = 0 … F−1                  (base = 10000)
    e(p) = [sin(p ω_0) … sin(p ω_{F−1}), cos(p ω_0) … cos(p ω_{F−1})]      (D/2 channels)
    PE(y, x) = concat(e(x), e(y))                    ("mae" layout below)

e(p) is exactly the 1-D sinusoidal encoding of width d = D/2 in the "halves" layout with the paper's
spacing (ω_k = base^(−2k/d) with d = D/2), so each half is `sinusoidal.sinusoidal_encoding(p, D/2)`.

Token order is row-major, token t = y·W + x: the order in which a stride-P convolution's output is
flattened. The [CLS] row, when asked for, is all zeros (MAE and MoCo v3 both prepend zeros).

Layouts. The same 4·F numbers are laid out differently by every codebase; all are one channel
permutation apart (`layout_permutation`), which matters only when a table meets weights trained with
another layout:

    "mae"        [sin x | cos x | sin y | cos y]    facebookresearch/mae: np.meshgrid(grid_w, grid_h) puts
                                                    the column in grid[0], which feeds the first half
                                                    (the variable is called emb_h but holds x)
    "row-first"  [sin y | cos y | sin x | cos x]    transformers 5.x ViTMAE build_2d_sinusoidal_position_embedding;
                                                    MoCo v3 on square grids (its torch.meshgrid(grid_w, grid_h)
                                                    is 'ij', so the "w" coordinate walks the rows)
    "timm"       [sin y | sin x | cos y | cos x]    timm build_sincos2d_pos_embed defaults
    "pe2d"       [sin y_0, cos y_0, sin y_1, … | sin x_0, cos x_0, …]
                                                    positional-encodings PositionalEncoding2D on (B, H, W, C)

Shapes: rows, cols (N,) -> (N, D); a grid (H, W) -> (H·W [+1], D).

Claims (each proved by the named test):
- half the channels depend only on x, half only on y, each half the 1-D halves encoding of width D/2
  (tests/claims/test_vision_sincos.py::test_axes_split_as_stated)
- the four layouts are one channel permutation apart
  (tests/claims/test_vision_sincos.py::test_layouts_are_channel_permutations)
- PE(y, x)·PE(y', x') = Σ_k cos(ω_k Δx) + Σ_k cos(ω_k Δy): a function of (Δy, Δx) only
  (tests/claims/test_vision_sincos.py::test_dot_product_depends_only_on_offsets)
- ‖PE‖² = D/2 for every patch, so cosine similarity is the dot product divided by D/2
  (tests/claims/test_vision_sincos.py::test_norm_is_constant_and_similarity_falls_with_distance)
- equals timm, transformers ViTMAE, positional-encodings and the MAE / MoCo v3 formulas
  (tests/peers/test_vision_peers.py)
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from peprep.encodings.sinusoidal import BASE, sinusoidal_encoding

Layout2D = Literal["mae", "row-first", "timm", "pe2d"]
LAYOUTS_2D: tuple[Layout2D, ...] = ("mae", "row-first", "timm", "pe2d")


def _check_dim(dim: int) -> None:
    if dim < 4 or dim % 4:
        raise ValueError(f"2-D sin-cos needs D divisible by 4 (sin and cos for each of two axes), got D={dim}")


def grid_coordinates(height: int, width: int) -> tuple[Tensor, Tensor]:
    """(rows, cols), each (H·W,) int64, in row-major token order: token t sits at (t // W, t % W)."""
    rows = torch.arange(height).repeat_interleave(width)  # 0 0 … 0 1 1 … 1 …
    cols = torch.arange(width).repeat(height)  # 0 1 … W−1 0 1 … W−1 …
    return rows, cols


def _blocks(rows: Tensor, cols: Tensor, dim: int, base: float) -> dict[str, Tensor]:
    """The four (N, D/4) blocks sin x, cos x, sin y, cos y, in float64."""
    half = dim // 2
    ex = sinusoidal_encoding(cols.to(torch.float64), half, base, layout="halves")  # (N, D/2) = [sin x | cos x]
    ey = sinusoidal_encoding(rows.to(torch.float64), half, base, layout="halves")  # (N, D/2) = [sin y | cos y]
    f = dim // 4
    return {"sin_x": ex[:, :f], "cos_x": ex[:, f:], "sin_y": ey[:, :f], "cos_y": ey[:, f:]}


def _interleave(sin: Tensor, cos: Tensor) -> Tensor:
    return torch.stack([sin, cos], dim=-1).flatten(-2)  # (N, 2F): sin_0, cos_0, sin_1, cos_1, …


def sincos_2d_encoding(
    rows: Tensor, cols: Tensor, dim: int, base: float = BASE, *, layout: Layout2D = "mae",
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """PE(rows[n], cols[n]) for each n, shape (N, D). Coordinates may be any reals (e.g. interpolated)."""
    _check_dim(dim)
    b = _blocks(rows, cols, dim, base)
    if layout == "mae":
        out = torch.cat([b["sin_x"], b["cos_x"], b["sin_y"], b["cos_y"]], dim=-1)
    elif layout == "row-first":
        out = torch.cat([b["sin_y"], b["cos_y"], b["sin_x"], b["cos_x"]], dim=-1)
    elif layout == "timm":
        out = torch.cat([b["sin_y"], b["sin_x"], b["cos_y"], b["cos_x"]], dim=-1)
    elif layout == "pe2d":
        out = torch.cat([_interleave(b["sin_y"], b["cos_y"]), _interleave(b["sin_x"], b["cos_x"])], dim=-1)
    else:
        raise ValueError(f"layout must be one of {LAYOUTS_2D}, got {layout!r}")
    return out.to(dtype)


def sincos_2d_grid(
    height: int, width: int, dim: int, base: float = BASE, *, layout: Layout2D = "mae",
    cls_token: bool = False, dtype: torch.dtype = torch.float32,
) -> Tensor:
    """The fixed table for an H×W patch grid, shape (H·W, D), or (1 + H·W, D) with a zero [CLS] row first."""
    rows, cols = grid_coordinates(height, width)
    table = sincos_2d_encoding(rows, cols, dim, base, layout=layout, dtype=dtype)
    if cls_token:
        table = torch.cat([torch.zeros(1, dim, dtype=dtype), table], dim=0)
    return table


def channel_sources(dim: int, layout: Layout2D) -> list[tuple[str, str, int]]:
    """For each output channel: (function, axis, frequency index), e.g. ("sin", "x", 3)."""
    _check_dim(dim)
    f = dim // 4
    blk = {name: [(name[:3], name[-1], k) for k in range(f)] for name in ("sin_x", "cos_x", "sin_y", "cos_y")}
    inter = lambda axis: [item for k in range(f) for item in (("sin", axis, k), ("cos", axis, k))]  # noqa: E731
    order = {
        "mae": blk["sin_x"] + blk["cos_x"] + blk["sin_y"] + blk["cos_y"],
        "row-first": blk["sin_y"] + blk["cos_y"] + blk["sin_x"] + blk["cos_x"],
        "timm": blk["sin_y"] + blk["sin_x"] + blk["cos_y"] + blk["cos_x"],
        "pe2d": inter("y") + inter("x"),
    }
    if layout not in order:
        raise ValueError(f"layout must be one of {LAYOUTS_2D}, got {layout!r}")
    return order[layout]


def layout_permutation(dim: int, src: Layout2D, dst: Layout2D) -> Tensor:
    """perm with table_dst = table_src[..., perm], shape (D,)."""
    where = {source: i for i, source in enumerate(channel_sources(dim, src))}
    return torch.tensor([where[source] for source in channel_sources(dim, dst)])


def sincos_2d_dot(dy: Tensor | float, dx: Tensor | float, dim: int, base: float = BASE) -> Tensor:
    """PE(y, x)·PE(y + Δy, x + Δx) = Σ_k cos(ω_k Δx) + Σ_k cos(ω_k Δy), float64; D/2 at (0, 0)."""
    _check_dim(dim)
    f = dim // 4
    omega = float(base) ** (-torch.arange(f, dtype=torch.float64) / f)  # (F,)
    dy, dx = torch.as_tensor(dy, dtype=torch.float64), torch.as_tensor(dx, dtype=torch.float64)
    return torch.cos(dx[..., None] * omega).sum(-1) + torch.cos(dy[..., None] * omega).sum(-1)


def cosine_similarity_map(table: Tensor, height: int, width: int, query: int) -> Tensor:
    """cos(PE[query], PE[t]) for every patch t, as an (H, W) map: one tile of ViT's Figure 7."""
    grid = table[-height * width:].to(torch.float64)  # drop a [CLS] row if present
    sims = torch.nn.functional.cosine_similarity(grid[query][None], grid, dim=-1)  # (H·W,)
    return sims.view(height, width)
