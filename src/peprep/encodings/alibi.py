"""ALiBi, attention with linear biases: Press, Smith & Lewis 2022 (arXiv 2108.12409), §3.

No positional encoding is added anywhere. Each head h adds a fixed, non-learned linear penalty to its
logits after the scaled dot product (the official fairseq code adds it to the causal mask, and the
query is already multiplied by 1/√D):

    S_hij = q_i·k_j / √D  −  m_h · (i − j)          causal: j ≤ i, so the bias is ≤ 0

Slopes (the official `get_slopes`, ofirpress/attention_with_linear_biases, fairseq/models/transformer.py):

    n a power of two:   m_h = 2^(−8h/n),  h = 1 … n       (a geometric sequence: start = ratio = 2^(−8/n))
                        n = 8  -> 1/2, 1/4, …, 1/256;   n = 16 -> 2^−0.5, 2^−1, …, 2^−8
    otherwise:          c = 2^⌊log2 n⌋; the c slopes of `alibi_slopes(c)`, then the first n − c of the
                        even-indexed (0-based) slopes of `alibi_slopes(2c)` — i.e. interleaved between them.

Three equal-by-softmax forms of the causal bias (softmax is invariant to adding a constant per row):

    relative      −m (i − j)           this module's default, the paper's Figure 3
    row-constant  +m j                 official fairseq code and HF Bloom (`build_alibi_tensor`)
    MPT           +m (j − (T−1))       HF MPT (`build_mpt_alibi_tensor`)

The three always differ by a constant per row, so they give the same attention with or without a
mask; but only the causal mask makes them a *distance penalty*: above the diagonal all three reward
keys further right. For bidirectional (encoder) attention use the symmetric form −m|i−j| (the
authors' issue #5; x-transformers' `AlibiPositionalBias`; FlashAttention's `alibi_slopes`).

Shapes: slopes (H,); biases (H, T_q, T_k). Queries are the last T_q of T_k positions (KV cache), the
convention of `attention.causal_mask`, so query i sits at absolute position i + T_k − T_q.

Claims (each proved by the named test):
- 8 heads give 2^−1 … 2^−8, 16 heads 2^−0.5 … 2^−8, and every power of two gives a geometric sequence
  with start = ratio = 2^(−8/n) (tests/claims/test_relative_alibi.py::test_slopes_for_8_heads,
  ::test_slopes_for_16_heads, ::test_slopes_are_geometric_for_powers_of_two)
- the non-power-of-two rule, e.g. 12 heads (tests/claims/test_relative_alibi.py::test_slopes_for_12_heads_interleave)
- relative, row-constant and MPT forms give the same attention; without the causal mask they are
  not the symmetric penalty −m|i−j| (tests/claims/test_relative_alibi.py::test_row_constant_forms_equal_under_causal_mask,
   ::test_row_constant_form_is_wrong_without_causal_mask)
- equals the official get_slopes, x-transformers, HF Bloom, MPT and Falcon (tests/peers/test_relative_peers.py)
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from peprep.encodings.attention import scaled_dot_product_attention

Form = Literal["relative", "symmetric", "row_constant", "mpt"]


def alibi_slopes(n_heads: int) -> Tensor:
    """Head slopes m_1 … m_n in float64, the official rule (see the module docstring)."""
    if n_heads < 1:
        raise ValueError(f"ALiBi needs at least one head, got {n_heads}")
    closest = 2 ** math.floor(math.log2(n_heads))
    h = torch.arange(1, closest + 1, dtype=torch.float64)
    slopes = 2.0 ** (-8.0 * h / closest)  # start = ratio = 2^(-8/c)
    if closest == n_heads:
        return slopes
    # The 2c-head sequence has slopes 2^(-4h/c); its even 0-based indices (h = 1, 3, 5, …) fall
    # geometrically halfway between the c slopes above.
    extra = alibi_slopes(2 * closest)[0::2][: n_heads - closest]
    return torch.cat([slopes, extra])


def alibi_bias(
    n_heads: int, t_q: int, t_k: int | None = None, *, form: Form = "relative", slopes: Tensor | None = None
) -> Tensor:
    """(H, T_q, T_k) additive bias; `form` picks one of the equal-by-softmax causal forms or `symmetric`."""
    t_k = t_q if t_k is None else t_k
    m = (alibi_slopes(n_heads) if slopes is None else slopes.to(torch.float64))[:, None, None]  # (H, 1, 1)
    i = torch.arange(t_k - t_q, t_k, dtype=torch.float64)[:, None]  # absolute query positions (T_q, 1)
    j = torch.arange(t_k, dtype=torch.float64)[None, :]  # key positions (1, T_k)
    if form == "relative":
        return -m * (i - j)
    if form == "symmetric":
        return -m * (i - j).abs()
    if form == "row_constant":
        return (m * j).expand(-1, t_q, -1)
    if form == "mpt":
        return (m * (j - (t_k - 1))).expand(-1, t_q, -1)
    raise ValueError(f"unknown ALiBi form {form!r}")


def alibi_attention(q: Tensor, k: Tensor, v: Tensor, *, causal: bool = True) -> Tensor:
    """softmax(q k^T / √D − m|i − j|, masked) v with q, k, v (B, H, T, D); causal by default (the paper)."""
    bias = alibi_bias(q.shape[1], q.shape[-2], k.shape[-2], form="relative" if causal else "symmetric")
    return scaled_dot_product_attention(q, k, v, causal=causal, bias=bias.to(q.dtype))
