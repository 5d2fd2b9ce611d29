"""peprep.encodings.randomized_positions: shapes, sortedness, range, determinism, uniformity, errors."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.randomized_positions import (
    consecutive_gaps,
    expected_gap,
    gap_survival,
    randomized_positions,
)
from peprep.encodings.rope import rope
from peprep.encodings.sinusoidal import sinusoidal_encoding


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_shapes_and_dtype():
    assert randomized_positions(5, 100, generator=gen()).shape == (5,)
    batch = randomized_positions(5, 100, generator=gen(), batch=3)
    assert batch.shape == (3, 5) and batch.dtype == torch.int64
    assert randomized_positions(0, 10, generator=gen()).shape == (0,)


def test_sorted_distinct_and_in_range():
    x = randomized_positions(40, 2048, generator=gen(), batch=500)  # (500, 40)
    assert torch.all(consecutive_gaps(x) >= 1)  # strictly increasing, hence distinct
    assert x.min() >= 0 and x.max() < 2048
    k = torch.arange(40)
    assert torch.all(x >= k) and torch.all(x <= 2048 - 40 + k)  # x_k ∈ [k, L − n + k]


def test_full_length_gives_every_position_in_order():
    assert torch.equal(randomized_positions(16, 16, generator=gen()), torch.arange(16))


def test_same_generator_state_same_positions_and_rows_differ():
    a = randomized_positions(8, 64, generator=gen(7), batch=4)
    b = randomized_positions(8, 64, generator=gen(7), batch=4)
    assert torch.equal(a, b)
    assert not torch.equal(a[0], a[1])  # independent rows, not one draw repeated


def test_uniform_coverage_over_many_draws():
    """Each of the L positions appears in a fraction n/L of the draws. Drawing n distinct positions per
    draw makes the statistic ≈ (1 − n/L)·χ² with L − 1 = 63 degrees of freedom: mean L − n = 56,
    sd ≈ 10, 0.9999 quantile ≈ 100; 110 is beyond it."""
    n, big_l, draws = 8, 64, 20000
    x = randomized_positions(n, big_l, generator=gen(1), batch=draws)
    counts = torch.bincount(x.flatten(), minlength=big_l).to(torch.float64)
    expected = draws * n / big_l
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 110, chi2
    sd = (draws * (n / big_l) * (1 - n / big_l)) ** 0.5  # binomial sd of one position's count
    assert torch.all((counts - expected).abs() < 5 * sd)


def test_errors():
    with pytest.raises(ValueError, match="max_length must be at least"):
        randomized_positions(65, 64)
    with pytest.raises(ValueError):
        randomized_positions(-1, 64)
    with pytest.raises(ValueError):
        randomized_positions(4, 0)
    with pytest.raises(ValueError):
        randomized_positions(4, 64, batch=0)
    with pytest.raises(ValueError):
        gap_survival(2, 1, 64)
    with pytest.raises(ValueError):
        expected_gap(65, 64)


def test_gap_helpers_edge_values():
    assert gap_survival(1, 8, 64) == 1.0
    assert gap_survival(64 - 8 + 2, 8, 64) == 0.0  # a gap cannot exceed L − n + 1
    assert expected_gap(64, 64) == 1.0  # n = L: positions 0 … L − 1, every gap is 1


def test_feeds_the_existing_encodings():
    x = randomized_positions(6, 2048, generator=gen(), batch=2)  # (B, T)
    assert sinusoidal_encoding(x, 16).shape == (2, 6, 16)
    q = torch.randn(2, 4, 6, 16, generator=gen(3))
    assert rope(q, x).shape == (2, 4, 6, 16)
