"""Unit tests for peprep.encodings.sincos_2d: shapes, token order, [CLS] row, input checks."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.sincos_2d import channel_sources, cosine_similarity_map, grid_coordinates, sincos_2d_grid


def test_grid_coordinates_are_row_major():
    rows, cols = grid_coordinates(2, 3)
    assert rows.tolist() == [0, 0, 0, 1, 1, 1] and cols.tolist() == [0, 1, 2, 0, 1, 2]


def test_shapes_dtype_and_cls_row():
    table = sincos_2d_grid(3, 5, 16, cls_token=True)
    assert table.shape == (16, 16) and table.dtype == torch.float32
    assert torch.all(table[0] == 0)
    assert sincos_2d_grid(3, 5, 16, dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize("dim", [2, 6, 30])
def test_dim_must_be_divisible_by_four(dim):
    with pytest.raises(ValueError, match="divisible by 4"):
        sincos_2d_grid(2, 2, dim)


def test_unknown_layout_is_rejected():
    with pytest.raises(ValueError, match="layout"):
        sincos_2d_grid(2, 2, 8, layout="moco")
    with pytest.raises(ValueError, match="layout"):
        channel_sources(8, "moco")


def test_channel_sources_describe_mae_layout():
    assert channel_sources(8, "mae") == [("sin", "x", 0), ("sin", "x", 1), ("cos", "x", 0), ("cos", "x", 1),
                                         ("sin", "y", 0), ("sin", "y", 1), ("cos", "y", 0), ("cos", "y", 1)]


def test_similarity_map_ignores_cls_row():
    table = sincos_2d_grid(4, 4, 32, cls_token=True)
    sims = cosine_similarity_map(table, 4, 4, query=5)
    assert sims.shape == (4, 4) and sims[1, 1] == pytest.approx(1.0, abs=1e-6)
