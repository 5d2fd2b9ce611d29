"""Transformer-XL relative attention: Dai et al. 2019 (arXiv 1901.02860), §3.3, and the official PyTorch
code (kimiyoung/transformer-xl, pytorch/mem_transformer.py: `RelPartialLearnableMultiHeadAttn`, `_rel_shift`).

Start from absolute encodings, input x_i + p_i (row vectors). The logit expands into four terms:

    (x_i + p_i) W_q W_k^T (x_j + p_j)^T
      = x_i W_q W_k^T x_j^T  +  x_i W_q W_k^T p_j^T  +  p_i W_q W_k^T x_j^T  +  p_i W_q W_k^T p_j^T
             (a)                    (b)                    (c)                    (d)

Transformer-XL makes every term relative with three replacements: p_j -> R_{i−j} (a fixed sinusoid of
the distance), the query-side p_i W_q -> learned global vectors u (next to content keys) and v (next
to position keys), and separate key projections W_{k,E} (content) and W_{k,R} (position):

    A_ij = q_i·k_j  +  q_i·r_{i−j}  +  u·k_j  +  v·r_{i−j}        q_i = x_i W_q, k_j = x_j W_{k,E}, r = R W_{k,R}
             (a)          (b)          (c)        (d)
         = (q_i + u)·k_j  +  (q_i + v)·r_{i−j}                    the official code: AC + BD

then A / √D (the code multiplies the sum by 1/√d_head). With a memory of m cached states, query i sits
at absolute position i + m, the keys are the m + T positions, and the distance is (i + m) − j ≥ 0.

R follows the code: positions pos_seq = T_k − 1, …, 1, 0 (descending), R[c] = [sin(pos·ω); cos(pos·ω)]
(two halves, not interleaved), ω_t = 10000^(−2t/d). Then (q + v) R^T has column c for distance
T_k − 1 − c, and `rel_shift` moves it to key column j: pad a zero column on the left, view as
(T_k + 1, T_q), drop the first row, view back. The result is exact for j ≤ i + m and garbage above,
which the causal mask removes.

Shapes: q (B, H, T_q, D); k, v (B, H, T_k, D) with T_k = m + T_q; r (H, T_k, D); u, v_bias (H, D).

Claims (each proved by the named test):
- the four-term expansion of the absolute logit (tests/claims/test_relative_xl.py::test_absolute_logit_is_four_terms)
- rel_shift == the explicit four-term computation, with and without memory
  (tests/claims/test_relative_xl.py::test_rel_shift_equals_explicit_terms)
- rel_shift is garbage above the causal diagonal (tests/claims/test_relative_xl.py::test_rel_shift_garbage_above_diagonal)
- the logits are unchanged when the whole context is shifted in absolute position, which is what lets
  a cached segment be reused (tests/claims/test_relative_xl.py::test_logits_invariant_to_absolute_shift)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from peprep.encodings.attention import scaled_dot_product_attention

BASE = 10000.0


def absolute_logit_terms(x: Tensor, p: Tensor, w_q: Tensor, w_k: Tensor) -> dict[str, Tensor]:
    """The four (T, T) terms (a)–(d) of (x + p) W_q W_k^T (x + p)^T, for x, p (T, C) and W (C, D)."""
    wq_wk = w_q @ w_k.T  # (C, C)
    return {"a": x @ wq_wk @ x.T, "b": x @ wq_wk @ p.T, "c": p @ wq_wk @ x.T, "d": p @ wq_wk @ p.T}


def sinusoid_relative(t_k: int, d: int, *, clamp_len: int | None = None, dtype=torch.float64) -> Tensor:
    """R (T_k, d): row c encodes distance T_k − 1 − c, layout [sin | cos] (the official `PositionalEmbedding`)."""
    pos = torch.arange(t_k - 1, -1, -1, dtype=dtype)
    if clamp_len is not None:
        pos = pos.clamp(max=clamp_len)  # the code's clamp_len: distances beyond it reuse its encoding
    inv_freq = 1.0 / BASE ** (torch.arange(0, d, 2, dtype=dtype) / d)
    angles = pos[:, None] * inv_freq[None, :]  # (T_k, d/2)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def rel_shift(x: Tensor) -> Tensor:
    """(..., T_q, T_k) with column c = distance T_k − 1 − c  ->  column j = key j (distance i + m − j).

    Exact where j ≤ i + m (m = T_k − T_q); the other entries are leftovers of the next row.
    """
    *batch, t_q, t_k = x.shape
    padded = F.pad(x, (1, 0))  # (..., T_q, T_k + 1)
    return padded.reshape(*batch, t_k + 1, t_q)[..., 1:, :].reshape(*batch, t_q, t_k)


def xl_logits(q: Tensor, k: Tensor, r: Tensor, u: Tensor, v_bias: Tensor) -> Tensor:
    """A / √D = [(q + u)·k_j + rel_shift((q + v)·r)] / √D, shape (B, H, T_q, T_k), valid for j ≤ i + m."""
    ac = (q + u[:, None, :]) @ k.transpose(-2, -1)  # (B, H, T_q, T_k): terms (a) + (c)
    bd = (q + v_bias[:, None, :]) @ r.transpose(-2, -1)  # (B, H, T_q, T_k): (b) + (d), by distance
    return (ac + rel_shift(bd)) / math.sqrt(q.shape[-1])


def xl_terms_explicit(q: Tensor, k: Tensor, r: Tensor, u: Tensor, v_bias: Tensor) -> dict[str, Tensor]:
    """The four terms indexed directly by distance, each (B, H, T_q, T_k), zero where j > i + m."""
    t_q, t_k = q.shape[-2], k.shape[-2]
    i = torch.arange(t_q)[:, None] + (t_k - t_q)  # absolute query positions
    j = torch.arange(t_k)[None, :]
    valid = j <= i
    row = (t_k - 1 - (i - j)).clamp(0, t_k - 1)  # row of R holding distance i − j
    r_ij = r[:, row]  # (H, T_q, T_k, D): r_{i−j} for every pair
    terms = {
        "a": q @ k.transpose(-2, -1),
        "b": torch.einsum("bhid,hijd->bhij", q, r_ij),
        "c": torch.einsum("hd,bhjd->bhj", u, k)[:, :, None, :].expand(-1, -1, t_q, -1),
        "d": torch.einsum("hd,hijd->hij", v_bias, r_ij)[None].expand(q.shape[0], -1, -1, -1),
    }
    return {name: term.masked_fill(~valid, 0.0) for name, term in terms.items()}


def xl_attention(q: Tensor, k: Tensor, v: Tensor, r: Tensor, u: Tensor, v_bias: Tensor) -> Tensor:
    """Causal Transformer-XL attention through the shared attention function.

    The shared function adds q·k/√D itself; everything else of A/√D is the additive bias.
    """
    c_term = u[:, None, :] @ k.transpose(-2, -1)  # (B, H, 1, T_k): term (c), the same for every query
    bd = rel_shift((q + v_bias[:, None, :]) @ r.transpose(-2, -1))  # terms (b) + (d)
    bias = (c_term + bd) / math.sqrt(q.shape[-1])
    return scaled_dot_product_attention(q, k, v, causal=True, bias=bias)
