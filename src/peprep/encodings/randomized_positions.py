"""Randomized positions: Ruoss et al. 2023, "Randomized Positional Encodings Boost Length
Generalization of Transformers" (ACL 2023, arXiv 2305.16843).

A sequence of n tokens does not get the positions 0, 1, …, n − 1. It gets n distinct positions drawn
uniformly without replacement from {0, …, L − 1}, with L far larger than any training length, sorted
into increasing order (the official code: `jrandom.choice(jnp.arange(L), (n,), replace=False)` then
`jnp.sort`, `models/positional_encodings.py`; the PoSE paper describes its "RandPos" baseline the same
way). Any encoding that takes positions then reads them unchanged: `sinusoidal.sinusoidal_encoding`,
`rope.rope`, `learned.learned_lookup` with an L-row table.

    S ⊂ {0, …, L−1}, |S| = n, uniform over all C(L, n) subsets;  x_0 < x_1 < … < x_{n−1} = sorted(S)

Facts of that distribution (0-based positions and token indices):

    P(p ∈ S) = n / L                       for every p < L: every position up to L is trained
    x_k ∈ [k, L − n + k]                    the k-th token never sits left of k or right of L − n + k
    g_k = x_{k+1} − x_k ≥ 1                 gaps: order is kept, spacing is random
    P(g_k ≥ j) = C(L − j + 1, n) / C(L, n)  (drop the j − 1 positions after x_k: a bijection with
                                             n-subsets of L − j + 1 positions), so P(g_k = 1) = n / L
    E[g_k] = (L + 1) / (n + 1)              the mean gap shrinks as the sequence gets longer

The official code draws one sorted set per batch and adds it to every row (`noisy_fixed_positional_
encodings` returns a (T, D) table broadcast over B); it also randomizes at test time (the answer in
the repository's issue #1). `batch=B` here draws B independent rows; draw once and broadcast
to copy the official behaviour.

Shapes: (T,) for batch=None, (B, T) otherwise; int64, on `device`.

Claims (each proved by the named test):
- every position is drawn with probability n/L (tests/claims/test_extrapolation_randomized.py::
  test_every_position_is_drawn_with_probability_n_over_l)
- gaps are >= 1 with the survival function and mean above (::test_gaps_follow_the_exact_distribution)
- RoPE on randomized positions scores only x_i − x_j, not i − j
  (::test_rope_on_randomized_positions_depends_only_on_sampled_difference)
- test sequences up to L use only positions and distances seen in training
  (::test_test_time_positions_and_distances_were_all_seen_in_training)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _check(length: int, max_length: int) -> None:
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    if not 0 <= length <= max_length:
        raise ValueError(
            f"cannot draw {length} distinct positions from {{0, …, {max_length - 1}}}: "
            "max_length must be at least the longest sequence, test sequences included"
        )


def randomized_positions(
    length: int,
    max_length: int,
    *,
    generator: torch.Generator | None = None,
    batch: int | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Sorted distinct int64 positions, a uniform `length`-subset of {0, …, max_length − 1}.

    Shape (length,) when `batch` is None, else (batch, length) with independent rows. The same
    `generator` state gives the same positions.

    >>> g = torch.Generator().manual_seed(0)
    >>> randomized_positions(4, 2048, generator=g).shape
    torch.Size([4])
    """
    _check(length, max_length)
    if batch is not None and batch < 1:
        raise ValueError(f"batch must be >= 1 or None, got {batch}")
    rows = 1 if batch is None else batch
    # The first `length` entries of a uniformly random permutation form a uniform subset. Keys are
    # float64 so that ties (which argsort would break by index, biasing the draw) are negligible:
    # float32 keys tie among 2048 values about once in eight draws.
    keys = torch.rand(rows, max_length, generator=generator, dtype=torch.float64, device=device)  # (B, L)
    chosen = keys.argsort(dim=-1)[:, :length]  # (B, T): distinct, in random order
    positions = chosen.sort(dim=-1).values  # (B, T): increasing, so the order of tokens is kept
    return positions[0] if batch is None else positions


def consecutive_gaps(positions: Tensor) -> Tensor:
    """g_k = x_{k+1} − x_k along the last axis, shape (..., T − 1); all >= 1 for randomized positions."""
    return positions.diff(dim=-1)


def gap_survival(j: int, length: int, max_length: int) -> float:
    """P(g_k >= j) = C(L − j + 1, n) / C(L, n) for any k, n = `length` >= 2, L = `max_length`."""
    _check(length, max_length)
    if length < 2:
        raise ValueError(f"a gap needs at least two positions, got length={length}")
    if j <= 1:
        return 1.0
    return math.comb(max_length - j + 1, length) / math.comb(max_length, length)


def expected_gap(length: int, max_length: int) -> float:
    """E[g_k] = (L + 1) / (n + 1): the mean spacing of n sorted positions drawn from L."""
    _check(length, max_length)
    return (max_length + 1) / (length + 1)
