"""Unit tests for peprep.encodings.rope_2d: shapes, conventions, checks."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.rope_2d import axial_angles, init_mixed_frequencies, mixed_angles, rope_2d, score_map
from peprep.encodings.sincos_2d import grid_coordinates


def test_axial_angle_blocks():
    rows, cols = torch.tensor([2]), torch.tensor([5])
    a = axial_angles(rows, cols, 8, base=100.0)  # D/4 = 2 frequencies per axis: 1 and 100^(−1/2)
    assert a.tolist()[0] == pytest.approx([5.0, 0.5, 2.0, 0.2])
    assert axial_angles(rows, cols, 8, base=100.0, first="y").tolist()[0] == pytest.approx([2.0, 0.2, 5.0, 0.5])


def test_checks():
    with pytest.raises(ValueError, match="divisible by 4"):
        axial_angles(torch.tensor([0]), torch.tensor([0]), 6)
    with pytest.raises(ValueError, match="first"):
        axial_angles(torch.tensor([0]), torch.tensor([0]), 8, first="z")


def test_rotation_keeps_norms_and_shapes():
    rows, cols = grid_coordinates(3, 4)
    x = torch.randn(2, 3, 12, 16, dtype=torch.float64)
    y = rope_2d(x, axial_angles(rows, cols, 16))
    assert y.shape == x.shape
    torch.testing.assert_close(y.norm(dim=-1), x.norm(dim=-1))
    fx, fy = init_mixed_frequencies(16, 3, generator=torch.Generator().manual_seed(0))
    assert mixed_angles(rows, cols, fx, fy).shape == (3, 12, 8)
    assert rope_2d(x, mixed_angles(rows, cols, fx, fy)).shape == x.shape


def test_score_map_peaks_at_query_for_identical_vectors():
    rows, cols = grid_coordinates(9, 9)
    v = torch.ones(16, dtype=torch.float64)
    m = score_map(v, v, axial_angles(rows, cols, 16), query=40, height=9, width=9)
    assert m.shape == (9, 9) and m[4, 4] == m.max()
