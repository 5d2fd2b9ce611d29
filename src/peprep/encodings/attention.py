"""Scaled dot-product self-attention: the operation every positional encoding plugs into.

Vaswani et al. 2017 (arXiv 1706.03762), eq. (1), with an optional additive logit bias — the slot
that T5's relative bias and ALiBi use:

    S   = q k^T / sqrt(D) + bias          (B, H, T_q, T_k)
    S_ij = -inf  where the causal mask forbids key j for query i
    A   = softmax(S, dim=-1)              each row sums to 1
    out = A v                             (B, H, T_q, D)

Layout, used by every module in `peprep.encodings`:

    B batch · H heads · T_q queries · T_k keys · D head dimension · C = H·D model width
    q: (B, H, T_q, D)   k, v: (B, H, T_k, D)   x: (B, T, C)

Nothing here knows where a token sits. With `bias=None` and `causal=False` the map is
permutation-equivariant: permuting the tokens permutes the outputs the same way
(tests/claims/test_why.py::test_self_attention_is_permutation_equivariant). Position enters only
through what the caller adds: the input, the `bias`, a causal mask, or a rotation of q and k.

Pure functions first; `MultiHeadSelfAttention` and `TransformerBlock` are thin modules on top.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def causal_mask(t_q: int, t_k: int, device: torch.device | None = None) -> Tensor:
    """Boolean (T_q, T_k) mask, True where query i may attend to key j.

    Queries are the last T_q of the T_k positions (0-based), so query i sits at absolute position
    i + T_k - T_q and sees keys j <= i + T_k - T_q. With T_q == T_k this is the lower triangle;
    with T_q == 1 (decoding with a KV cache) the one query sees every cached key.
    """
    if t_q > t_k:
        raise ValueError(f"causal_mask needs t_q <= t_k (queries are the last t_q keys), got {t_q} > {t_k}")
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).tril(diagonal=t_k - t_q)


def attention_logits(q: Tensor, k: Tensor, *, bias: Tensor | None = None) -> Tensor:
    """S = q k^T / sqrt(D) + bias, shape (B, H, T_q, T_k), before any mask.

    `bias` broadcasts against (B, H, T_q, T_k): (T_q, T_k), (H, T_q, T_k) or the full shape.
    """
    logits = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, T_q, T_k)
    return logits if bias is None else logits + bias


def attention_weights(q: Tensor, k: Tensor, *, causal: bool = False, bias: Tensor | None = None) -> Tensor:
    """A = softmax(S) over keys, shape (B, H, T_q, T_k); masked entries are exactly 0."""
    logits = attention_logits(q, k, bias=bias)
    if causal:
        allowed = causal_mask(q.shape[-2], k.shape[-2], device=q.device)
        # -inf, not a large negative number: exp(-inf) = 0 exactly, so a masked key contributes
        # nothing, and every row keeps at least its own key, so no row is all -inf.
        logits = logits.masked_fill(~allowed, float("-inf"))
    return logits.softmax(dim=-1)


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, *, causal: bool = False, bias: Tensor | None = None
) -> Tensor:
    """out = softmax(q k^T / sqrt(D) + bias, masked) v, shape (B, H, T_q, D).

    Same numbers as `torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias,
    is_causal=causal)` for T_q == T_k (tests/encodings/test_attention.py::test_matches_torch_sdpa).
    """
    return attention_weights(q, k, causal=causal, bias=bias) @ v


def split_heads(x: Tensor, n_heads: int) -> Tensor:
    """(B, T, H·D) -> (B, H, T, D); head h owns channels [h·D, (h+1)·D)."""
    b, t, c = x.shape
    if c % n_heads:
        raise ValueError(f"model width {c} is not divisible by n_heads={n_heads}")
    return x.view(b, t, n_heads, c // n_heads).transpose(1, 2)


def merge_heads(x: Tensor) -> Tensor:
    """(B, H, T, D) -> (B, T, H·D), the inverse of `split_heads`."""
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


def multi_head_self_attention(
    x: Tensor,
    w_q: Tensor,
    w_k: Tensor,
    w_v: Tensor,
    w_o: Tensor,
    n_heads: int,
    *,
    causal: bool = False,
    bias: Tensor | None = None,
) -> Tensor:
    """MHSA(x) = concat_h(softmax(q_h k_h^T / sqrt(D) + bias_h) v_h) W_O, with q = x W_Q etc.

    x: (B, T, C); every weight is (C, C) and multiplies from the right (row-vector convention);
    no projection biases, so the formula above is the whole computation. Returns (B, T, C).
    """
    q = split_heads(x @ w_q, n_heads)  # (B, H, T, D)
    k = split_heads(x @ w_k, n_heads)
    v = split_heads(x @ w_v, n_heads)
    return merge_heads(scaled_dot_product_attention(q, k, v, causal=causal, bias=bias)) @ w_o


class MultiHeadSelfAttention(nn.Module):
    """Thin module over `multi_head_self_attention`; weights stored as (C, C) row-vector matrices."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        scale = d_model**-0.5  # keeps q·k of order 1 at initialisation
        self.w_q, self.w_k, self.w_v, self.w_o = (
            nn.Parameter(torch.randn(d_model, d_model) * scale) for _ in range(4)
        )

    def forward(self, x: Tensor, *, causal: bool = False, bias: Tensor | None = None) -> Tensor:
        return multi_head_self_attention(
            x, self.w_q, self.w_k, self.w_v, self.w_o, self.n_heads, causal=causal, bias=bias
        )


class TransformerBlock(nn.Module):
    """Pre-LN block: x + MHSA(LN(x)), then + FFN(LN(·)). No positional encoding of its own.

    LayerNorm and the FFN act on each position separately, and the residual adds position t to
    position t, so the block is permutation-equivariant whenever its attention is
    (tests/claims/test_why.py::test_transformer_stack_is_permutation_equivariant).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int | None = None):
        super().__init__()
        d_ff = d_ff or 4 * d_model  # the 4x expansion of Vaswani et al. (512 -> 2048)
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadSelfAttention(d_model, n_heads)
        self.ln_2 = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))

    def forward(self, x: Tensor, *, causal: bool = False, bias: Tensor | None = None) -> Tensor:
        x = x + self.attn(self.ln_1(x), causal=causal, bias=bias)  # (B, T, C)
        return x + self.ffn(self.ln_2(x))

