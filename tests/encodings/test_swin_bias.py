"""Unit tests for peprep.encodings.swin_bias: shapes and small known values."""

from __future__ import annotations

import torch

from peprep.encodings.swin_bias import (
    init_bias_table,
    log_coords_table,
    relative_position_bias,
    relative_position_index,
    resize_bias_table,
    table_size,
    window_coords,
)


def test_two_by_two_window_index():
    # tokens (0,0) (0,1) (1,0) (1,1); table 3×3 flattened row-major; offset (0, 0) -> 4
    assert relative_position_index((2, 2)).tolist() == [[4, 3, 1, 0], [5, 4, 2, 1], [7, 6, 4, 3], [8, 7, 5, 4]]
    assert window_coords((2, 2)).tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_shapes():
    table = init_bias_table((3, 5), 4)
    assert table.shape == (table_size((3, 5)), 4) == (5 * 9, 4)
    assert relative_position_bias(table, (3, 5)).shape == (4, 15, 15)
    assert resize_bias_table(table, (3, 5), (4, 6)).shape == (7 * 11, 4)
    assert log_coords_table((3, 5)).shape == (5, 9, 2)


def test_table_is_small_at_init():
    table = init_bias_table((7, 7), 8, generator=torch.Generator().manual_seed(0))
    assert 0.015 < table.std().item() < 0.025
