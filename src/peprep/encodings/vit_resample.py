"""Resampling a ViT's learned position embeddings to a new patch grid (fine-tuning at another resolution).

ViT (Dosovitskiy et al. 2021, arXiv 2010.11929) learns E_pos ∈ R^{(N+1)×D}: one row for [CLS] and one per
patch of an H×W grid, N = H·W, in raster order. At a new resolution with the same patch size P the grid
becomes H'×W' and the table has no rows for the new patches. §3.2: "we perform 2D interpolation of the
pre-trained position embeddings, according to their location in the original image." The recipe:

    1. split off the prefix rows ([CLS]; DeiT also a distillation token) — they are kept as they are;
    2. reshape the N patch rows to an (H, W, D) image with D channels;
    3. resize it to (H', W') with an image interpolation, each channel independently;
    4. flatten row-major to H'·W' rows and put the prefix rows back in front.

Implementations differ in step 3 (the numbers differ, so a checkpoint is fine-tuned with one of them):

    google-research/vision_transformer  scipy.ndimage.zoom(order=1): linear, corner-aligned
    DeiT, MAE (interpolate_pos_embed), transformers ViTEmbeddings.interpolate_pos_encoding:
                                        F.interpolate(mode="bicubic", align_corners=False)   cubic a = −0.75
    timm resample_abs_pos_embed         F.interpolate(mode="bicubic", antialias=True) by default: PyTorch's
                                        antialiased bicubic uses the cubic a = −0.5 even when upsampling

Everything here computes in float64 and returns the input's dtype. Shapes: posemb (N_prefix + H·W, D) or
(1, N_prefix + H·W, D) -> the same layout with H'·W' patch rows.

Claims (each proved by the named test):
- resampling to the same grid is the identity, and the prefix rows are never changed
  (tests/claims/test_vision_resample.py::test_same_grid_is_identity)
- a table that is linear in the patch coordinates stays linear, sampled at the new patch centres
  (tests/claims/test_vision_resample.py::test_linear_table_is_sampled_at_new_centres)
- halfway between uncorrelated rows, linear interpolation keeps a fraction √(Σ w²) of the norm:
  1/√2 in 1-D, 1/2 at a 2-D cell centre; cubic keeps more (DeiT's reason for bicubic)
  (tests/claims/test_vision_resample.py::test_interpolation_shrinks_norm_of_uncorrelated_rows)
- PyTorch's bicubic is the a = −0.75 cubic, its antialiased bicubic the a = −0.5 cubic
  (tests/claims/test_vision_resample.py::test_bicubic_kernels_differ_with_antialias)
- equals timm resample_abs_pos_embed and transformers ViTEmbeddings.interpolate_pos_encoding
  (tests/peers/test_vision_peers.py)
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor
from torch.nn import functional as F

Mode = Literal["bicubic", "bilinear", "nearest"]


def split_prefix(posemb: Tensor, num_prefix_tokens: int) -> tuple[Tensor, Tensor]:
    """(prefix rows, patch rows) of an (N_prefix + N, D) table."""
    return posemb[:num_prefix_tokens], posemb[num_prefix_tokens:]


def resample_grid(
    posemb: Tensor,
    old_size: tuple[int, int],
    new_size: tuple[int, int],
    *,
    num_prefix_tokens: int = 1,
    mode: Mode = "bicubic",
    align_corners: bool = False,
    antialias: bool = False,
) -> Tensor:
    """Resize the patch rows of a learned table from an old (H, W) grid to a new (H', W') grid.

    Defaults follow DeiT / MAE / transformers (bicubic, align_corners=False, no antialias); pass
    antialias=True for timm's default. The prefix rows are returned untouched.
    """
    batched = posemb.ndim == 3
    table = posemb[0] if batched else posemb  # (N_prefix + H·W, D)
    prefix, patches = split_prefix(table, num_prefix_tokens)
    h, w = old_size
    if patches.shape[0] != h * w:
        raise ValueError(f"{patches.shape[0]} patch rows do not form an {h}×{w} grid (num_prefix_tokens={num_prefix_tokens})")
    if (h, w) == tuple(new_size):
        return posemb.clone()
    d = patches.shape[-1]
    image = patches.to(torch.float64).reshape(h, w, d).permute(2, 0, 1)[None]  # (1, D, H, W): one channel per dim
    corners = None if mode == "nearest" else align_corners
    resized = F.interpolate(image, size=tuple(new_size), mode=mode, align_corners=corners, antialias=antialias)
    new_patches = resized[0].permute(1, 2, 0).reshape(-1, d).to(posemb.dtype)  # (H'·W', D), row-major
    out = torch.cat([prefix, new_patches], dim=0)
    return out[None] if batched else out


def source_coordinate(index: Tensor, old: int, new: int, *, align_corners: bool = False) -> Tensor:
    """Where output row/column `index` of a resize old -> new samples the input (PyTorch's convention).

    align_corners=False: s = (i + ½)·old/new − ½   (patch centres line up: the image is stretched)
    align_corners=True:  s = i·(old − 1)/(new − 1)  (first and last patch centres are kept)
    """
    index = index.to(torch.float64)
    if align_corners:
        return index * (old - 1) / (new - 1)
    return (index + 0.5) * old / new - 0.5


def cubic_kernel(t: Tensor, a: float = -0.75) -> Tensor:
    """Keys' cubic convolution kernel W(t): a = −0.75 in PyTorch/OpenCV bicubic, a = −0.5 in PIL (antialias)."""
    t = t.abs().to(torch.float64)
    near = (a + 2) * t**3 - (a + 3) * t**2 + 1  # |t| <= 1
    far = a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a  # 1 < |t| < 2
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


def midpoint_weights(mode: Literal["linear", "cubic"], a: float = -0.75) -> Tensor:
    """1-D weights on the neighbouring rows for a sample exactly halfway between two rows."""
    if mode == "linear":
        return torch.tensor([0.5, 0.5], dtype=torch.float64)
    return cubic_kernel(torch.tensor([1.5, 0.5, 0.5, 1.5]), a)  # rows at distance 1.5, 0.5, 0.5, 1.5


def expected_norm_ratio(weights_1d: Tensor, dims: int = 1) -> float:
    """E‖Σ w_i v_i‖ / ‖v‖ for i.i.d. isotropic rows v_i (large D): √(Σ w²) per axis, multiplied over axes."""
    return float(weights_1d.pow(2).sum().sqrt() ** dims)
