"""Claims of chapter 5 about why extrapolation fails and the inference-time tricks.

- PI's interpolation bound (Chen et al. 2023, Theorem 2.1) and the size of RoFormer's extrapolation bound;
- attention entropy grows with the number of keys; log-n scaling slows the growth;
- ReRoPE / Leaky ReRoPE, Self-Extend and StreamingLLM only change which relative position a pair sees.
Float64; tolerances per test.
"""

from __future__ import annotations

import math

import torch

from peprep.encodings.rope import inv_freq, partial_sums
from peprep.encodings.rope_scaling import (
    relative_positions,
    rerope_positions,
    rope_scores_from_relative,
    self_extend_max_length,
    self_extend_positions,
    streaming_cache_positions,
    streaming_cache_tokens,
)

F64 = torch.float64


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def score_at(h: torch.Tensor, s: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """a(s) = Re Σ_j h_j e^{i s θ_j} (PI eq. 3) for real distances s (...,)."""
    phase = s[..., None] * inv_freq(2 * h.shape[-1], base)
    return (h * torch.polar(torch.ones_like(phase), phase)).sum(-1).real


def test_pi_interpolation_bound_holds():
    """Theorem 2.1: for s in [s1, s2] = [n, n+1], |a(s) − a_linear(s)| <= d·max|h_j|·(s−s1)(s2−s)/(8 ln c);
    at the midpoint this is d·max|h_j|/(32 ln c) = d·max|h_j|/294.73 (c = 10000, d = 128)."""
    d, c = 128, 10000.0
    assert abs(32 * math.log(c) - 294.7309) < 1e-4
    for seed in range(4):
        h = torch.view_as_complex(randn(d // 2, 2, seed=seed))
        s1 = torch.arange(0, 2048, dtype=F64)[:, None]
        frac = torch.linspace(0, 1, 11, dtype=F64)[None, :]
        s = s1 + frac
        linear = (1 - frac) * score_at(h, s1) + frac * score_at(h, s1 + 1)
        bound = d * h.abs().max() * frac * (1 - frac) / (8 * math.log(c))
        assert torch.all((score_at(h, s) - linear).abs() <= bound + 1e-12)


def test_extrapolation_bound_sum_exceeds_d_within_4096_but_not_everywhere():
    """PI §2.3: B(s) = Σ_k |A_{k+1}(s)| is 'at least larger than d', which makes the interpolation bound
    ≈ 600× smaller. For d = 128 that holds for every distance up to 4860 (minimum 142.8 on [0, 4096]),
    but B first drops below d at s = 4861 and reaches 75.5 near s = 70 508: the claim is about the
    range they plot, not all distances."""
    s = torch.arange(0, 10001, dtype=F64)
    b = partial_sums(s, 128).sum(-1)
    assert b[:4097].min() > 142.8 and b[:4097].min() < 142.9
    assert torch.all(b[:4861] >= 128) and b[4861] < 128
    assert 2 * 32 * math.log(10000.0) > 589  # "2 · 294.73 ≈ 600"


def entropy(n: int, lam: float, d: int = 64, trials: int = 16, seed: int = 0) -> float:
    """Mean entropy (nats) of softmax(λ q·k) over n keys, q and k uniform on the sphere of radius √d."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(trials, d, generator=g, dtype=F64)
    k = torch.randn(trials, n, d, generator=g, dtype=F64)
    q = q / q.norm(dim=-1, keepdim=True) * math.sqrt(d)
    k = k / k.norm(dim=-1, keepdim=True) * math.sqrt(d)
    p = (lam * (k @ q[:, :, None]).squeeze(-1)).softmax(-1)
    return float((-(p * p.clamp_min(1e-300).log()).sum(-1)).mean())


def test_attention_entropy_grows_like_log_n_and_log_n_scaling_slows_it():
    """With the usual 1/√d and unrelated keys, attention dilutes: from 64 to 8192 keys the entropy grows by
    ≈ ln 128 = 4.85 nats (within 3 %). Su's entropy-invariant scale log_512(n)/√d grows it less (≈ 4.06):
    it slows the dilution, it does not remove it."""
    d = 64
    std = [entropy(n, 1 / math.sqrt(d)) for n in (64, 8192)]
    logn = [entropy(n, math.log(n) / math.log(512) / math.sqrt(d)) for n in (64, 8192)]
    growth_std, growth_logn = std[1] - std[0], logn[1] - logn[0]
    assert abs(growth_std - math.log(8192 / 64)) < 0.03 * math.log(128)
    assert growth_logn < growth_std - 0.5
    assert growth_logn > 3.5  # not invariant on random keys


def test_rope_scores_from_relative_positions_equal_rotating_q_and_k():
    """The helper used below: RoPE logits from the matrix i − j equal rotating q at i and k at j."""
    from peprep.encodings.rope import rope

    q, k = randn(12, 32, seed=1), randn(12, 32, seed=2)
    pos = torch.arange(12)
    rq = rope(q[None, None], pos, rotary_dim=32)[0, 0].to(F64)
    rk = rope(k[None, None], pos, rotary_dim=32)[0, 0].to(F64)
    ours = rope_scores_from_relative(q, k, relative_positions(12), inv_freq(32))
    assert torch.allclose(ours, rq @ rk.T, atol=1e-4)  # rope() computes angles in float32


def test_rerope_window_and_leaky_slope():
    """ReRoPE: relative position min(i − j, w): exact inside the window, w beyond, so no pair ever sees a
    distance larger than w whatever the length. Leaky ReRoPE: w + (i − j − w)/k beyond the window
    (bojone/rerope: w = 512, k = 16), continuous at w."""
    t, w, k = 1200, 128, 16.0
    rel = relative_positions(t).to(F64)
    rerope = rerope_positions(t, w)
    causal = rel >= 0
    assert torch.equal(rerope[causal & (rel < w)], rel[causal & (rel < w)])
    assert torch.all(rerope[causal & (rel >= w)] == w) and rerope[causal].max() == w
    leaky = rerope_positions(t, w, leaky_factor=k)
    far = causal & (rel >= w)
    assert torch.allclose(leaky[far], w + (rel[far] - w) / k)
    assert leaky[causal].max() == w + (t - 1 - w) / k  # 1200 tokens, w = 128: at most ≈ 195
    # scores inside the window are the plain RoPE scores; beyond it they are the score at distance w
    q, kk = randn(t, 32, seed=3)[-4:], randn(t, 32, seed=4)
    rows = slice(t - 4, t)
    plain = rope_scores_from_relative(q, kk, rel[rows], inv_freq(32))
    rect = rope_scores_from_relative(q, kk, rerope[rows], inv_freq(32))
    near = rel[rows] < w
    assert torch.allclose(rect[near], plain[near], atol=1e-12)
    assert not torch.allclose(rect[~near], plain[~near], atol=1e-3)


def test_self_extend_positions_and_maximum_length():
    """Self-Extend: neighbours (i − j < w_n) keep exact positions; farther pairs use ⌊i/G⌋ − ⌊j/G⌋ + w_n − w_n/G.
    The largest position is L − 1 exactly at T = (L − w_n)·G + w_n and L one token later
    (LLaMA 2: L = 4096, w_n = 1024, G = 8 -> 25 600 tokens)."""
    assert self_extend_max_length(4096, 8, 1024) == 25600
    trained, g, w = 256, 4, 64
    t = self_extend_max_length(trained, g, w)  # 832
    pos = self_extend_positions(t, g, w)
    rel = relative_positions(t)
    causal = rel >= 0
    assert torch.equal(pos[causal & (rel < w)], rel[causal & (rel < w)])
    assert pos[causal].max() == trained - 1
    assert self_extend_positions(t + 1, g, w)[relative_positions(t + 1) >= 0].max() == trained
    # the grouped positions start where the neighbour window ends (within one group) and never decrease
    # with distance along a row
    row = pos[t - 1, : t - w].flip(0)  # distances w, w+1, …, t−1 from the last query
    assert abs(int(row[0]) - w) <= 1 and torch.all(row[1:] >= row[:-1])


def test_streaming_llm_positions_within_the_cache():
    """StreamingLLM §3.2: with 4 sinks and a rolling window the cache of tokens [0, 1, 2, 3, 6, 7, 8] decoding
    token 9 uses positions [0 … 7] (its slots), not [0, 1, 2, 3, 6, 7, 8, 9]; relative distances therefore
    never exceed the cache size, however long the stream."""
    cache = streaming_cache_tokens(9, n_sink=4, window=3)
    assert cache == [0, 1, 2, 3, 6, 7, 8]
    assert streaming_cache_positions(len(cache) + 1).tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    for n in (10, 1000, 100000):
        cache = streaming_cache_tokens(n, n_sink=4, window=1020)
        assert len(cache) == min(n, 1024) and cache[:4] == [0, 1, 2, 3]
        positions = streaming_cache_positions(len(cache))
        assert int(positions.max() - positions.min()) < 1024
        assert cache[-1] - cache[0] == n - 1  # in text positions the distance grows without bound


def test_self_extend_plan_for_32k_from_4k():
    """The 'serve 32k tomorrow' numbers: with L = 4096, w_n = 512 and G = 9 reach exactly 32768; with
    w_n = 1024 the group must be at least 11 (G = 10 reaches only 31744). KV cache of Llama 2 7B in fp16:
    2·32 layers·32 heads·128·2 bytes = 0.5 MiB per token, 16 GiB for one 32k sequence."""
    assert self_extend_max_length(4096, 9, 512) == 32768
    assert self_extend_max_length(4096, 10, 1024) == 31744 < 32768 <= self_extend_max_length(4096, 11, 1024)
    per_token = 2 * 32 * 32 * 128 * 2
    assert per_token == 2**19 and per_token * 32768 == 16 * 2**30
