"""peprep.encodings.alibi: shapes, forms, errors."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.alibi import alibi_attention, alibi_bias, alibi_slopes


def test_shapes():
    assert alibi_slopes(5).shape == (5,)
    assert alibi_bias(4, 3, 10).shape == (4, 3, 10)
    for form in ("relative", "symmetric", "row_constant", "mpt"):
        assert alibi_bias(4, 6, form=form).shape == (4, 6, 6)


def test_errors():
    with pytest.raises(ValueError):
        alibi_slopes(0)
    with pytest.raises(ValueError):
        alibi_bias(4, 3, form="square")


def test_custom_slopes_and_attention():
    b = alibi_bias(2, 4, slopes=torch.tensor([1.0, 0.0]))
    assert torch.equal(b[1], torch.zeros(4, 4))
    q = k = v = torch.randn(1, 8, 5, 4)
    assert alibi_attention(q, k, v).shape == (1, 8, 5, 4)
    assert alibi_attention(q, k, v, causal=False).shape == (1, 8, 5, 4)
