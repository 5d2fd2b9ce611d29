"""peprep.encodings.fire: shapes, gradients."""

from __future__ import annotations

import torch

from peprep.encodings.fire import FIREBias, fire_normalised_distance


def test_future_keys_are_zero():
    x = fire_normalised_distance(5)
    assert torch.equal(x.triu(1), torch.zeros(5, 5, dtype=torch.float64))


def test_module_learns_c_and_threshold():
    module = FIREBias(n_heads=3, mlp_width=8)
    out = module(2, 6)
    assert out.shape == (3, 2, 6)
    out.pow(2).sum().backward()
    assert module.c.grad is not None
