"""peprep.encodings.t5_bias: shapes, module, conventions."""

from __future__ import annotations

import torch

from peprep.encodings.t5_bias import T5RelativeBias, relative_position_bucket, t5_position_bias


def test_bucket_range():
    b = relative_position_bucket(torch.arange(-1000, 1001))
    assert b.min() == 0 and b.max() == 31


def test_bias_shape_and_cache_offset():
    table = torch.randn(32, 6)
    assert t5_position_bias(table, 4, 9).shape == (6, 4, 9)
    # an explicit offset places the first query anywhere
    assert torch.equal(t5_position_bias(table, 1, 9, offset=8), t5_position_bias(table, 9)[:, -1:])


def test_module_is_one_table_per_stack():
    module = T5RelativeBias(n_heads=4, bidirectional=False)
    assert module.table.shape == (32, 4)
    bias = module(7)
    assert bias.shape == (4, 7, 7)
    bias.sum().backward()
    assert module.table.grad is not None
