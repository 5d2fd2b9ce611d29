"""peprep.encodings.sandwich: shapes."""

from __future__ import annotations

from peprep.encodings.sandwich import sandwich_bias


def test_shapes():
    assert sandwich_bias(4, 3, 9, d_bar=32).shape == (4, 3, 9)
