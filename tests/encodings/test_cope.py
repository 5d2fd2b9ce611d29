"""peprep.encodings.cope: shapes, clamping."""

from __future__ import annotations

import torch

from peprep.encodings.cope import cope_bias


def test_shapes_and_position_clamp():
    q = torch.randn(2, 3, 20, 4)
    logits = torch.full((2, 3, 20, 20), 10.0).masked_fill(~torch.ones(20, 20, dtype=torch.bool).tril(), float("-inf"))
    e = torch.randn(5, 4)
    out = cope_bias(q, logits, e)
    assert out.shape == (2, 3, 20, 20)
    # positions beyond P − 1 = 4 use e[4]: the first key of the last query is ~20 counted tokens back
    torch.testing.assert_close(out[..., -1, 0], q[..., -1, :] @ e[4], rtol=1e-5, atol=1e-5)
