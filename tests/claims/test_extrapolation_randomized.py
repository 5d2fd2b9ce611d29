"""Claims of chapter 5 about training on randomized positions (Ruoss et al. 2023) and how it differs
from PoSE (Zhu et al. 2023) and PI (Chen et al. 2023).

Notation: n tokens, positions drawn from {0, …, L − 1}; sorted draw x_0 < … < x_{n−1}; gaps
g_k = x_{k+1} − x_k. Statistical tests use fixed seeds, so they are deterministic; their bounds are
several standard errors wide.
"""

from __future__ import annotations

import math
from itertools import combinations

import torch

from peprep.encodings.randomized_positions import (
    consecutive_gaps,
    expected_gap,
    gap_survival,
    randomized_positions,
)
from peprep.encodings.rope import angles, apply_rotary, cos_sin, inv_freq
from peprep.encodings.rope_scaling import rope_scores_from_relative

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def distances_seen(x: torch.Tensor, size: int) -> torch.Tensor:
    """(size,) bool: which distances x_j − x_i > 0 occur among the positions of one sequence x (T,)."""
    d = x[None, :] - x[:, None]  # (T, T)
    seen = torch.zeros(size, dtype=torch.bool)
    seen[d[d > 0]] = True
    return seen


def pose_positions(lc: int, lt: int, g: torch.Generator) -> torch.Tensor:
    """PoSE with N = 2 chunks (Zhu et al. §3.2, eqs. 3–4, u_0 = 0): split the window L_c at a random
    l_0, then shift the second chunk by a skip u_1 ~ U{0, …, L_t − L_c}. Positions (L_c,)."""
    l0 = int(torch.randint(1, lc, (1,), generator=g))
    u1 = int(torch.randint(0, lt - lc + 1, (1,), generator=g))
    return torch.cat([torch.arange(l0), torch.arange(l0, lc) + u1])


def test_every_position_is_drawn_with_probability_n_over_l():
    """P(p ∈ S) = n/L for every p < L. Standard positions 0 … n−1 never reach p >= n."""
    n, big_l, draws = 40, 256, 10000
    x = randomized_positions(n, big_l, generator=gen(0), batch=draws)  # (draws, n)
    freq = torch.bincount(x.flatten(), minlength=big_l).to(F64) / draws  # (L,)
    p = n / big_l
    se = math.sqrt(p * (1 - p) / draws)
    assert torch.all((freq - p).abs() < 5 * se), (freq - p).abs().max()
    standard = torch.arange(n)
    assert standard.max() == n - 1 < big_l - 1  # the usual positions leave [n, L) untrained


def test_gaps_follow_the_exact_distribution():
    """g_k >= 1; P(g_k >= j) = C(L−j+1, n)/C(L, n); P(g_k = 1) = n/L; E[g_k] = (L+1)/(n+1)."""
    n, big_l, draws = 8, 64, 20000
    g = consecutive_gaps(randomized_positions(n, big_l, generator=gen(1), batch=draws)).flatten()
    assert g.min() >= 1
    for j in range(1, 31):
        assert abs((g >= j).to(F64).mean().item() - gap_survival(j, n, big_l)) < 0.01, j
    assert abs((g == 1).to(F64).mean().item() - n / big_l) < 0.01
    assert abs(1 - gap_survival(2, n, big_l) - n / big_l) < 1e-15
    assert abs(g.to(F64).mean().item() - expected_gap(n, big_l)) < 0.05
    # E[g] = Σ_j P(g >= j), exactly
    assert math.isclose(sum(gap_survival(j, n, big_l) for j in range(1, big_l + 1)), expected_gap(n, big_l))
    # exact: enumerate all C(12, 4) = 495 subsets; every gap position k has the same distribution
    small_n, small_l = 4, 12
    every = torch.tensor(list(combinations(range(small_l), small_n)))  # (495, n), rows sorted
    gaps = consecutive_gaps(every).to(F64)  # (495, n − 1)
    for j in range(1, small_l + 1):
        exact = torch.full((small_n - 1,), gap_survival(j, small_n, small_l), dtype=F64)
        assert torch.allclose((gaps >= j).to(F64).mean(0), exact, rtol=0, atol=1e-12), j
    mean_gap = torch.full((small_n - 1,), expected_gap(small_n, small_l), dtype=F64)
    assert torch.allclose(gaps.mean(0), mean_gap, rtol=0, atol=1e-12)


def test_the_gap_distribution_shifts_with_test_length():
    """With the official example's L = 2048 and its lengths (training inputs <= 40, test up to 100), taken
    as the number n of drawn positions: the mean gap is >= 49.98 for n <= 40 but 20.29 for n = 100, and
    adjacent positions (gap 1) make up <= 1.95 % of gaps for n <= 40 but 4.88 % for n = 100."""
    big_l = 2048
    assert round(expected_gap(40, big_l), 2) == 49.98 and round(expected_gap(100, big_l), 2) == 20.29
    assert all(expected_gap(n, big_l) >= expected_gap(40, big_l) for n in range(2, 41))
    assert round(100 * 40 / big_l, 2) == 1.95 and round(100 * 100 / big_l, 2) == 4.88


def test_mean_positions_are_a_stretched_grid():
    """E[x_k] = (k+1)(L+1)/(n+1) − 1: on average the k-th token sits at k stretched by (L+1)/(n+1),
    the opposite of PI, which compresses m to m·L/L'."""
    n, big_l, draws = 10, 200, 20000
    x = randomized_positions(n, big_l, generator=gen(2), batch=draws).to(F64)
    k = torch.arange(n, dtype=F64)
    mean = (k + 1) * (big_l + 1) / (n + 1) - 1
    assert torch.all((x.mean(0) - mean).abs() < 1.0), (x.mean(0) - mean).abs().max()  # 5 sd of a mean (≈ 0.2)
    # exact, by enumerating all C(12, 4) = 495 subsets (tells L + 1 from L, which the bound above cannot)
    small_n, small_l = 4, 12
    every = torch.tensor(list(combinations(range(small_l), small_n)), dtype=F64)  # (495, n), rows sorted
    k = torch.arange(small_n, dtype=F64)
    assert torch.allclose(every.mean(0), (k + 1) * (small_l + 1) / (small_n + 1) - 1, rtol=0, atol=1e-12)


def test_rope_on_randomized_positions_depends_only_on_sampled_difference():
    """RoPE still scores q_i·R((x_i − x_j)θ)·k_j: shifting every sampled position by c changes nothing.
    But the token offset i − j no longer fixes the score: the same offset gets different distances."""
    t, d = 12, 32
    x = randomized_positions(t, 2048, generator=gen(3))  # (T,)
    q = torch.randn(t, d, generator=gen(4), dtype=F64)
    k = torch.randn(t, d, generator=gen(5), dtype=F64)
    theta = inv_freq(d)

    def scores(pos: torch.Tensor) -> torch.Tensor:
        cos, sin = cos_sin(angles(pos, theta, dtype=F64))  # (T, D), angles in float64
        return apply_rotary(q, cos, sin) @ apply_rotary(k, cos, sin).T  # (T, T)

    rel = (x[:, None] - x[None, :]).to(F64)  # x_i − x_j
    assert torch.allclose(scores(x), rope_scores_from_relative(q, k, rel, theta), rtol=0, atol=1e-9)
    assert torch.allclose(scores(x), scores(x + 777), rtol=0, atol=1e-9)
    adjacent = consecutive_gaps(x)  # distances that the token offset 1 was given
    assert len(set(adjacent.tolist())) > 1
    assert not torch.allclose(scores(x), scores(torch.arange(t)), atol=1e-3)


def test_test_time_positions_and_distances_were_all_seen_in_training():
    """Training lengths 1 … 16 with L = 128: the training draws cover every position in [0, L) and
    every distance in [1, L). A test sequence of any length <= L is drawn from the same [0, L), so its
    positions and distances were all trained. Standard positions 0 … n−1 cover only [0, 16)."""
    big_l, n_max = 128, 16
    g = gen(6)
    seen_pos = torch.zeros(big_l, dtype=torch.bool)
    seen_dist = torch.zeros(big_l, dtype=torch.bool)
    for step in range(4000):
        x = randomized_positions(step % n_max + 1, big_l, generator=g)
        seen_pos[x] = True
        seen_dist |= distances_seen(x, big_l)
    assert seen_pos.all() and seen_dist[1:].all()
    for m in (17, 64, 100, big_l):
        x = randomized_positions(m, big_l, generator=g)
        assert seen_pos[x].all() and seen_dist[distances_seen(x, big_l)].all()
    standard_pos = torch.zeros(big_l, dtype=torch.bool)
    standard_pos[torch.arange(n_max)] = True
    assert standard_pos.sum() == n_max and not standard_pos[torch.arange(big_l)].all()


def test_one_randpos_example_covers_almost_every_distance_pose_at_most_2lc():
    """2k -> 16k (Zhu et al. App. B, Fig. 5): one RandPos example (2048 positions from 16384) realises
    > 99 % of the distances 1 … 16383 and every distance up to 12000; one PoSE example with two chunks
    realises at most 2·L_c − 3 = 4093 of them, but keeps gap 1 between all adjacent tokens except one."""
    lc, lt = 2048, 16384
    g = gen(7)
    for _ in range(3):
        rand = randomized_positions(lc, lt, generator=g)
        seen = distances_seen(rand, lt)[1:]
        assert seen.to(F64).mean() > 0.99 and seen[:12000].all()
        pose = pose_positions(lc, lt, g)
        assert distances_seen(pose, lt)[1:].sum() <= 2 * lc - 3
        assert (consecutive_gaps(pose) != 1).sum() <= 1
    # RandPos adjacent gaps equal 1 with probability L_c / L_t = 1/8 only
    gaps = consecutive_gaps(randomized_positions(lc, lt, generator=g, batch=20))
    assert abs((gaps == 1).to(F64).mean().item() - lc / lt) < 0.01
