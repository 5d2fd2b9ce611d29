"""peprep.encodings.learned: shapes, initialisation and the module's position handling."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.learned import (
    LearnedPositionalEmbedding,
    extend_by_interpolation,
    init_learned_table,
    learned_lookup,
)


def test_lookup_shapes():
    table = init_learned_table(10, 6)
    assert learned_lookup(table, torch.arange(4)).shape == (4, 6)
    assert learned_lookup(table, torch.arange(8).view(2, 4)).shape == (2, 4, 6)
    assert learned_lookup(table, torch.zeros(0, dtype=torch.long)).shape == (0, 6)


def test_init_is_seeded():
    a = init_learned_table(5, 3, generator=torch.Generator().manual_seed(1))
    b = init_learned_table(5, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_module_matches_lookup_and_trains():
    layer = LearnedPositionalEmbedding(12, 4)
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(layer(x, offset=3), x + layer.table[3:8])
    rows = torch.tensor([[0, 1, 2, 3, 4], [0, 0, 1, 2, 3]])
    torch.testing.assert_close(layer(x, positions=rows), x + layer.table[rows])
    assert [p.shape for p in layer.parameters()] == [(12, 4)]


def test_interpolation_rejects_degenerate_sizes():
    with pytest.raises(ValueError):
        extend_by_interpolation(torch.zeros(1, 4), 8)
    with pytest.raises(ValueError):
        extend_by_interpolation(torch.zeros(4, 4), 1)
