"""peprep.encodings.kerple: shapes, clamps."""

from __future__ import annotations

import torch

from peprep.encodings.kerple import causal_distance, kerple_log_bias, kerple_power_bias


def test_distance_and_shapes():
    assert causal_distance(2, 4).tolist() == [[2, 1, 0, 0], [3, 2, 1, 0]]
    r = torch.ones(3, dtype=torch.float64)
    assert kerple_power_bias(r, r, 5).shape == (3, 5, 5)
    assert kerple_log_bias(r, r, 2, 5).shape == (3, 2, 5)


def test_parameters_are_clamped_like_the_official_code():
    zero = torch.zeros(1, dtype=torch.float64)
    assert (kerple_log_bias(zero, zero, 4) < 0).any()  # r clamped to 0.01, not 0
    big = torch.full((1,), 5.0, dtype=torch.float64)
    torch.testing.assert_close(kerple_power_bias(torch.ones(1, dtype=torch.float64), big, 4),
                               kerple_power_bias(torch.ones(1, dtype=torch.float64), torch.full((1,), 2.0, dtype=torch.float64), 4))
