"""Claims of chapter 6 (vision) about resampling learned ViT position embeddings to a new grid."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from peprep.encodings.vit_resample import (
    cubic_kernel,
    expected_norm_ratio,
    midpoint_weights,
    resample_grid,
    source_coordinate,
)

F64 = torch.float64


def learned_like_table(h: int, w: int, d: int, prefix: int = 1, seed: int = 0) -> torch.Tensor:
    return torch.randn(prefix + h * w, d, generator=torch.Generator().manual_seed(seed), dtype=F64) * 0.02


@pytest.mark.parametrize("kwargs", [{}, {"antialias": True}, {"mode": "bilinear"}, {"align_corners": True}])
def test_same_grid_is_identity(kwargs):
    # 14×14 -> 14×14 returns the table unchanged, whatever the interpolation; and the [CLS] row is
    # never resampled, also when the grid does change (224 -> 384 with patch 16: 14×14 -> 24×24).
    table = learned_like_table(14, 14, 32)
    assert torch.equal(resample_grid(table, (14, 14), (14, 14), **kwargs), table)
    # the interpolation itself is the identity at the same size (not only our early return)
    image = table[1:].reshape(14, 14, 32).permute(2, 0, 1)[None]
    same = F.interpolate(image, size=(14, 14), mode="bicubic", align_corners=False)
    torch.testing.assert_close(same, image, rtol=0, atol=1e-15)
    bigger = resample_grid(table, (14, 14), (24, 24), **kwargs)
    assert bigger.shape == (1 + 24 * 24, 32)
    assert torch.equal(bigger[0], table[0])
    batched = resample_grid(table[None], (14, 14), (24, 24), **kwargs)
    assert torch.equal(batched[0], bigger)


def test_linear_table_is_sampled_at_new_centres():
    # A table linear in (row, col): new patch (i, j) should read the old table at the source coordinate
    # s = (i + ½)·14/24 − ½ (patch centres aligned). Bilinear and the a = −0.5 cubic (timm's antialias
    # bicubic) reproduce a linear function exactly away from the border; PyTorch's default bicubic
    # (a = −0.75, used by DeiT, MAE, transformers) does not: its first moment is not t.
    h = w = 14
    rows = torch.arange(h, dtype=F64).repeat_interleave(w)
    cols = torch.arange(w, dtype=F64).repeat(h)
    table = torch.stack([rows, cols, 2 * rows - 3 * cols + 1], dim=-1)  # (196, 3), no prefix
    s = source_coordinate(torch.arange(24), 14, 24)
    expected = torch.stack([s.repeat_interleave(24), s.repeat(24), 2 * s.repeat_interleave(24) - 3 * s.repeat(24) + 1], -1)
    interior = (s >= 1) & (s <= h - 2)  # all four cubic taps inside the old grid

    def interior_error(out):
        err = (out - expected).abs().view(24, 24, 3)
        return err[interior][:, interior].max().item()

    assert interior_error(resample_grid(table, (h, w), (24, 24), num_prefix_tokens=0, mode="bilinear")) < 1e-12
    assert interior_error(resample_grid(table, (h, w), (24, 24), num_prefix_tokens=0, antialias=True)) < 1e-12
    assert interior_error(resample_grid(table, (h, w), (24, 24), num_prefix_tokens=0)) > 0.1
    t = torch.tensor(0.3, dtype=F64)
    taps = torch.arange(-1, 3, dtype=F64)
    assert float((taps * cubic_kernel(t - taps, a=-0.5)).sum()) == pytest.approx(0.3, abs=1e-15)
    assert float((taps * cubic_kernel(t - taps, a=-0.75)).sum()) == pytest.approx(0.342, abs=1e-12)


def test_interpolation_shrinks_norm_of_uncorrelated_rows():
    # DeiT: "a bilinear interpolation of a vector from its neighbors reduces its ℓ2-norm". For i.i.d.
    # rows v_i the new row Σ w_i v_i has norm ≈ √(Σ w_i²)·‖v‖: halfway between two rows that is 1/√2,
    # at the centre of four rows 1/2; the a = −0.75 cubic keeps 0.85 and 0.72. Measured on a random
    # 8×8 table with D = 4096 resampled with corners aligned (8 -> 15 puts new rows exactly halfway),
    # tolerance 3 % (sampling noise of the norm with D = 4096 is about 1 %).
    d = 4096
    table = torch.randn(64, d, generator=torch.Generator().manual_seed(1), dtype=F64)
    ref = table.norm(dim=-1).mean()
    for mode, weights in (("bilinear", midpoint_weights("linear")), ("bicubic", midpoint_weights("cubic"))):
        out = resample_grid(table, (8, 8), (15, 15), num_prefix_tokens=0, mode=mode, align_corners=True)
        grid = out.view(15, 15, d)
        edge_mid = grid[4, 5].norm() / ref  # old row 2, halfway between old columns 2 and 3 (interior)
        centre = grid[5, 5].norm() / ref  # halfway in both directions
        assert float(edge_mid) == pytest.approx(expected_norm_ratio(weights, 1), rel=0.03)
        assert float(centre) == pytest.approx(expected_norm_ratio(weights, 2), rel=0.03)
    assert expected_norm_ratio(midpoint_weights("linear"), 2) == pytest.approx(0.5)
    assert expected_norm_ratio(midpoint_weights("cubic"), 1) == pytest.approx(0.8501, abs=1e-4)
    # a smooth table (neighbouring rows nearly equal, like trained embeddings) keeps its norm either way
    smooth = torch.cos(torch.arange(64, dtype=F64)[:, None] * 0.02 + torch.linspace(0, 6, 256, dtype=F64))
    out = resample_grid(smooth, (8, 8), (15, 15), num_prefix_tokens=0, mode="bilinear", align_corners=True)
    assert float(out.norm(dim=-1).min() / smooth.norm(dim=-1).min()) > 0.98


def test_bicubic_kernels_differ_with_antialias():
    # Upsampling an impulse shows the kernel: plain bicubic = Keys cubic with a = −0.75, antialiased
    # bicubic (timm's default) = a = −0.5. So timm and DeiT/MAE/transformers give different tables.
    n = 10
    impulse = torch.zeros(1, 1, 1, n, dtype=torch.float32)
    impulse[..., 5] = 1
    src = source_coordinate(torch.arange(2 * n), n, 2 * n) - 5  # distance of each output to the impulse
    inner = slice(6, 14)
    for antialias, a in ((False, -0.75), (True, -0.5)):
        out = F.interpolate(impulse, size=(1, 2 * n), mode="bicubic", align_corners=False, antialias=antialias)
        torch.testing.assert_close(out[0, 0, 0, inner].double(), cubic_kernel(src[inner], a), rtol=0, atol=1e-6)
    table = learned_like_table(14, 14, 16)
    plain = resample_grid(table, (14, 14), (24, 24))
    timm_like = resample_grid(table, (14, 14), (24, 24), antialias=True)
    assert (plain - timm_like).abs().max() > 1e-3 * table.abs().max()
