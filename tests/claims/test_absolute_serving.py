"""Claims of chapter 2 (absolute) about KV caches, padding and packing with an absolute encoding.

A one-layer causal self-attention over x = token + PE(position), in float64: small enough to read,
enough to show which position ids each serving trick must pass.
"""

from __future__ import annotations

import torch

from peprep.encodings.attention import merge_heads, scaled_dot_product_attention, split_heads
from peprep.encodings.sinusoidal import SinusoidalPositionalEncoding

F64 = torch.float64
D, H = 16, 2
G = torch.Generator().manual_seed(0)
W_Q, W_K, W_V = (torch.randn(D, D, generator=G, dtype=F64) / D**0.5 for _ in range(3))
PE = SinusoidalPositionalEncoding(D)


def tokens(b: int, t: int, seed: int) -> torch.Tensor:
    return torch.randn(b, t, D, generator=torch.Generator().manual_seed(seed), dtype=F64)


def qkv(x_tok: torch.Tensor, positions: torch.Tensor):
    x = PE(x_tok, positions=positions.to(F64))  # (B, T, D)
    return tuple(split_heads(x @ w, H) for w in (W_Q, W_K, W_V))  # each (B, H, T, D/H)


def attend(q, k, v, allowed: torch.Tensor) -> torch.Tensor:
    """allowed: bool (B, T_q, T_k) -> output (B, T_q, D)."""
    bias = torch.zeros(allowed.shape, dtype=F64).masked_fill(~allowed, float("-inf"))[:, None]
    return merge_heads(scaled_dot_product_attention(q, k, v, bias=bias))


def causal(t_q: int, t_k: int, b: int = 1) -> torch.Tensor:
    return torch.ones(t_q, t_k, dtype=torch.bool).tril(t_k - t_q).expand(b, t_q, t_k)


def forward(x_tok: torch.Tensor, positions: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    return attend(*qkv(x_tok, positions), allowed)


def test_kv_cache_needs_position_offset():
    # Decoding with a cache: keys/values of the prefix were computed at positions 0..T−2, so the new token
    # must get PE(T−1) (offset = past length, as GPT-2's positions_for(X, past_length) does). Then the
    # cached step equals a full recompute; restarting its position at 0 gives a different answer.
    t = 9
    x = tokens(1, t, seed=1)
    full = forward(x, torch.arange(t), causal(t, t))[:, -1]
    _, k_past, v_past = qkv(x[:, :-1], torch.arange(t - 1))
    for new_pos, should_match in ((t - 1, True), (0, False)):
        q_new, k_new, v_new = qkv(x[:, -1:], torch.tensor([new_pos]))
        k, v = torch.cat([k_past, k_new], 2), torch.cat([v_past, v_new], 2)
        step = attend(q_new, k, v, causal(1, t))[:, -1]
        assert torch.allclose(step, full, rtol=0, atol=1e-12) == should_match


def test_left_padding_shifts_absolute_positions():
    # Left padding with default positions 0..T−1 moves every real token right by the pad count, so its
    # output changes. Positions = cumsum(mask) − 1 (what HF generate builds from the attention mask) restore it.
    n, pad = 6, 3
    x = tokens(1, n, seed=2)
    reference = forward(x, torch.arange(n), causal(n, n))
    padded = torch.cat([tokens(1, pad, seed=3), x], 1)  # pads first
    mask = torch.tensor([[False] * pad + [True] * n])
    allowed = causal(n + pad, n + pad) & mask[:, None, :]
    allowed = allowed | torch.eye(n + pad, dtype=torch.bool)  # pads attend to themselves: no all −inf rows
    naive = forward(padded, torch.arange(n + pad), allowed)[:, pad:]
    fixed_positions = (mask.long().cumsum(-1) - 1).clamp(min=0)[0]
    fixed = forward(padded, fixed_positions, allowed)[:, pad:]
    assert not torch.allclose(naive, reference, atol=1e-6)
    torch.testing.assert_close(fixed, reference, rtol=0, atol=1e-12)


def test_right_padding_keeps_positions():
    # Right padding leaves real tokens at 0..n−1, and the causal mask hides the pads behind them.
    n, pad = 6, 3
    x = tokens(1, n, seed=2)
    reference = forward(x, torch.arange(n), causal(n, n))
    padded = torch.cat([x, tokens(1, pad, seed=4)], 1)
    out = forward(padded, torch.arange(n + pad), causal(n + pad, n + pad))[:, :n]
    torch.testing.assert_close(out, reference, rtol=0, atol=1e-12)


def test_packing_needs_position_reset_and_block_mask():
    # Two documents packed into one row equal two separate runs only with positions restarting at 0 for each
    # document and a block-diagonal causal mask; without the reset the second document sits at 4..9.
    a, b = tokens(1, 4, seed=5), tokens(1, 6, seed=6)
    ref_a = forward(a, torch.arange(4), causal(4, 4))
    ref_b = forward(b, torch.arange(6), causal(6, 6))
    packed = torch.cat([a, b], 1)
    doc = torch.tensor([0] * 4 + [1] * 6)
    block = causal(10, 10) & (doc[:, None] == doc[None, :])
    reset = torch.cat([torch.arange(4), torch.arange(6)])
    out = forward(packed, reset, block)
    torch.testing.assert_close(out[:, :4], ref_a, rtol=0, atol=1e-12)
    torch.testing.assert_close(out[:, 4:], ref_b, rtol=0, atol=1e-12)
    no_reset = forward(packed, torch.arange(10), block)
    assert not torch.allclose(no_reset[:, 4:], ref_b, atol=1e-6)
