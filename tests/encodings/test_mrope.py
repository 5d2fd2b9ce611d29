"""Unit tests for peprep.encodings.mrope: grids, segments, checks."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.mrope import Text, Vision, apply_mrope, llm_grid, mrope_position_ids, vision_position_ids


def test_llm_grid_merges_two_by_two():
    assert llm_grid((1, 32, 48)) == (1, 16, 24)
    with pytest.raises(ValueError, match="divisible"):
        llm_grid((1, 5, 4))


def test_vision_ids_are_row_major_per_frame():
    ids = vision_position_ids(10, 2, 2, 3)
    assert ids.tolist() == [[10] * 6 + [11] * 6, [10, 10, 10, 11, 11, 11] * 2, [10, 11, 12] * 4]


def test_empty_text_and_bad_segment():
    ids, delta = mrope_position_ids([Vision((1, 2, 2))])
    assert ids.tolist() == [[0], [0], [0]] and delta == 0
    with pytest.raises(TypeError):
        mrope_position_ids([("text", 3)])


def test_apply_mrope_shape_and_norm():
    ids, _ = mrope_position_ids([Text(2), Vision((1, 4, 4)), Text(1)])
    x = torch.randn(1, 2, ids.shape[1], 16, dtype=torch.float64)
    y = apply_mrope(x, ids, section=(2, 3, 3))
    assert y.shape == x.shape
    torch.testing.assert_close(y.norm(dim=-1), x.norm(dim=-1))
