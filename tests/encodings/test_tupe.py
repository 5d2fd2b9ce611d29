"""peprep.encodings.tupe: shapes."""

from __future__ import annotations

import torch

from peprep.encodings.tupe import tupe_position_bias, tupe_scores


def test_shapes():
    p, u_q, u_k = torch.randn(5, 8), torch.randn(8, 8), torch.randn(8, 8)
    bias = tupe_position_bias(p, u_q, u_k, 2)
    assert bias.shape == (2, 5, 5)
    q = k = torch.randn(3, 2, 5, 4)
    assert tupe_scores(q, k, bias).shape == (3, 2, 5, 5)
