"""Unit tests for peprep.encodings.vit_resample: prefixes, shapes, dtypes, checks."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.vit_resample import cubic_kernel, resample_grid, source_coordinate, split_prefix


def test_prefix_rows_pass_through_for_two_prefix_tokens():
    # DeiT keeps [CLS] and the distillation token unchanged
    table = torch.randn(2 + 16, 8)
    out = resample_grid(table, (4, 4), (6, 6), num_prefix_tokens=2)
    assert out.shape == (2 + 36, 8) and torch.equal(out[:2], table[:2])
    assert torch.equal(split_prefix(table, 2)[0], table[:2])


def test_dtype_is_kept_and_nearest_works():
    table = torch.randn(1 + 9, 4, dtype=torch.float32)
    assert resample_grid(table, (3, 3), (5, 5)).dtype == torch.float32
    out = resample_grid(table, (3, 3), (6, 6), mode="nearest")
    assert torch.equal(out[1], table[1])  # nearest copies rows


def test_wrong_grid_is_rejected():
    with pytest.raises(ValueError, match="do not form"):
        resample_grid(torch.randn(1 + 10, 4), (3, 3), (4, 4))


def test_source_coordinate_conventions():
    assert source_coordinate(torch.tensor([0, 3]), 2, 4, align_corners=True).tolist() == [0.0, 1.0]
    assert source_coordinate(torch.tensor([0]), 2, 4).tolist() == [-0.25]


def test_cubic_kernel_interpolates():
    assert cubic_kernel(torch.tensor([0.0, 1.0, 2.0, 2.5])).tolist() == [1.0, 0.0, 0.0, 0.0]
