"""Unit tests for peprep.encodings.video_rope: pair assignment, offsets, segments, checks."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.mrope import Text, Vision
from peprep.encodings.video_rope import (
    apply_videorope,
    axis_angles,
    axis_wavelengths,
    spatial_offsets,
    video_position_ids,
    videorope_angles,
    videorope_axes,
    videorope_position_ids,
)


def test_axes_interleave_space_then_time():
    axes = videorope_axes(16, (2, 3, 3))  # 8 pairs: h w h w h w | t t
    assert axes.tolist() == [1, 2, 1, 2, 1, 2, 0, 0]
    with pytest.raises(ValueError, match="equal"):
        videorope_axes(16, (2, 4, 2))
    with pytest.raises(ValueError, match="sum"):
        videorope_axes(16, (2, 3, 2))
    with pytest.raises(ValueError, match="three"):
        videorope_axes(16, (4, 4))


def test_angles_pick_the_assigned_row():
    ids = torch.tensor([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]], dtype=torch.float64)  # (t, h, w), two tokens
    axes = videorope_axes(8, (2, 1, 1))  # h w t t
    ang = axis_angles(ids, axes, base=100.0)
    theta = 100.0 ** (-torch.arange(0, 8, 2, dtype=torch.float64) / 8)
    expected = torch.stack([ids[1] * theta[0], ids[2] * theta[1], ids[0] * theta[2], ids[0] * theta[3]], dim=-1)
    torch.testing.assert_close(ang, expected)
    torch.testing.assert_close(videorope_angles(ids, 8, 100.0, (2, 1, 1)), expected)
    assert axis_wavelengths(axes, 0, 100.0).shape == (2,)


def test_offsets_per_rule():
    assert spatial_offsets(4, "paper").tolist() == [-2.0, -1.0, 0.0, 1.0]
    assert spatial_offsets(3, "paper").tolist() == [-1.5, -0.5, 0.5]
    assert spatial_offsets(4, "official").tolist() == [-1.0, 0.0, 1.0, 2.0]
    assert spatial_offsets(3, "official").tolist() == [-1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="rule"):
        spatial_offsets(3, "centre")


def test_video_ids_are_frame_then_row_major():
    ids = video_position_ids(5, 2, 1, 3, delta=2.0, rule="official")  # 2 frames of 1 × 3
    assert ids.tolist() == [[5, 5, 5, 7, 7, 7], [5, 5, 5, 7, 7, 7], [4, 5, 6, 6, 7, 8]]


def test_segments_checks_and_image():
    ids, delta = videorope_position_ids([Text(2), Vision((1, 2, 2)), Text(1)], rule="official")
    assert ids.tolist() == [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]] and delta == 0.0  # 1×1 image on the diagonal
    with pytest.raises(TypeError):
        videorope_position_ids([("text", 3)])
    with pytest.raises(ValueError, match="time_interval"):
        videorope_position_ids([Vision((2, 4, 4), time_interval=2.0)])
    with pytest.raises(ValueError, match="rule"):
        videorope_position_ids([Text(1)], rule="hf")


def test_rope_delta_continues_generation():
    # ends with a video: the next token starts where the next segment would (paper: s + δ·T_v)
    ids, rope_delta = videorope_position_ids([Text(3), Vision((2, 4, 4))], delta=2.0)
    length = ids.shape[1]  # 3 + 2·2·2 = 11
    assert length + rope_delta == 3 + 2.0 * 2
    ids, rope_delta = videorope_position_ids([Text(3), Vision((2, 4, 4)), Text(2)], delta=2.0)
    assert ids.shape[1] + rope_delta == float(ids[0, -1]) + 1


def test_apply_videorope_shape_and_norm():
    ids, _ = videorope_position_ids([Text(2), Vision((3, 4, 6)), Text(1)])
    x = torch.randn(1, 2, ids.shape[1], 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = apply_videorope(x, ids, section=(2, 3, 3))
    assert y.shape == x.shape
    torch.testing.assert_close(y.norm(dim=-1), x.norm(dim=-1))
