"""Claims of chapter 6 (vision) about fixed 2-D sin-cos position embeddings (MAE, MoCo v3)."""

from __future__ import annotations

import itertools

import pytest
import torch

from peprep.encodings.sincos_2d import (
    LAYOUTS_2D,
    cosine_similarity_map,
    grid_coordinates,
    layout_permutation,
    sincos_2d_dot,
    sincos_2d_encoding,
    sincos_2d_grid,
)
from peprep.encodings.sinusoidal import sinusoidal_encoding

F64 = torch.float64


def test_axes_split_as_stated():
    # "mae" layout, D = 64: channels 0..31 are the 1-D halves encoding (width 32) of the column x,
    # channels 32..63 that of the row y. Changing the row leaves the first half bit-for-bit unchanged.
    h, w, d = 5, 7, 64
    table = sincos_2d_grid(h, w, d, dtype=F64)  # (35, 64)
    rows, cols = grid_coordinates(h, w)
    torch.testing.assert_close(table[:, : d // 2], sinusoidal_encoding(cols.double(), d // 2, layout="halves"),
                               rtol=0, atol=1e-15)
    torch.testing.assert_close(table[:, d // 2 :], sinusoidal_encoding(rows.double(), d // 2, layout="halves"),
                               rtol=0, atol=1e-15)
    grid = table.view(h, w, d)
    assert torch.equal(grid[0, :, : d // 2], grid[4, :, : d // 2])  # x-half: same in every row
    assert torch.equal(grid[:, 0, d // 2 :], grid[:, 6, d // 2 :])  # y-half: same in every column
    # frequencies ω_k = 10000^(−k/F), F = D/4: channel k holds sin(x ω_k), channel F + k holds cos(x ω_k)
    f = d // 4
    omega = 10000.0 ** (-torch.arange(f, dtype=F64) / f)
    x = 3.0
    torch.testing.assert_close(sincos_2d_encoding(torch.tensor([0.0]), torch.tensor([x]), d, dtype=F64)[0, :f],
                               torch.sin(x * omega), rtol=0, atol=1e-15)


@pytest.mark.parametrize("src,dst", list(itertools.permutations(LAYOUTS_2D, 2)))
def test_layouts_are_channel_permutations(src, dst):
    # MAE, transformers' ViTMAE ("row-first"), timm and positional-encodings store the same numbers in a
    # different channel order; a fixed permutation maps one onto the other exactly.
    a = sincos_2d_grid(6, 4, 32, layout=src, dtype=F64)
    b = sincos_2d_grid(6, 4, 32, layout=dst, dtype=F64)
    perm = layout_permutation(32, src, dst)
    assert sorted(perm.tolist()) == list(range(32))
    assert torch.equal(a[:, perm], b)
    assert not torch.equal(a, b)  # they really are different layouts


def test_dot_product_depends_only_on_offsets():
    # PE(y, x)·PE(y+Δy, x+Δx) = Σ cos(ω Δx) + Σ cos(ω Δy) for every (y, x): a relative quantity.
    d = 128
    rows, cols = torch.meshgrid(torch.arange(0, 20, 3.0), torch.arange(0, 20, 4.0), indexing="ij")
    rows, cols = rows.reshape(-1), cols.reshape(-1)
    for dy, dx in [(0, 0), (1, 0), (0, 5), (-3, 7), (2.5, -1.25)]:
        a = sincos_2d_encoding(rows, cols, d, dtype=F64)
        b = sincos_2d_encoding(rows + dy, cols + dx, d, dtype=F64)
        dots = (a * b).sum(-1)  # one value per starting patch
        torch.testing.assert_close(dots, sincos_2d_dot(dy, dx, d).expand_as(dots), rtol=0, atol=1e-12)
    # and it is symmetric in the sign of each offset
    assert sincos_2d_dot(3, -2, d) == pytest.approx(float(sincos_2d_dot(-3, 2, d)), abs=1e-12)


def test_norm_is_constant_and_similarity_falls_with_distance():
    # ‖PE‖² = D/2 (F sin² + F cos² per axis), so cos-similarity = dot/(D/2); along an axis it is highest
    # for the patch itself and falls, not monotonically forever, but over the first few patches.
    d, h, w = 256, 14, 14
    table = sincos_2d_grid(h, w, d, dtype=F64)
    torch.testing.assert_close(table.pow(2).sum(-1), torch.full((h * w,), d / 2, dtype=F64), rtol=0, atol=1e-12)
    sims = cosine_similarity_map(table, h, w, query=7 * w + 7)  # centre patch (7, 7)
    assert sims[7, 7] == pytest.approx(1.0)
    row = sims[7, 7:]
    assert torch.all(row[:-1] > row[1:])  # along the row, farther = less similar for 7 steps
    torch.testing.assert_close(sims[7, 9], sincos_2d_dot(0, 2, d) / (d / 2), rtol=0, atol=1e-12)
    assert sims[5, 9] < min(sims[7, 9], sims[5, 7])  # a diagonal neighbour differs in both halves
