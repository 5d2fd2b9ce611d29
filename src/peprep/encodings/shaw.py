"""Relative position representations: Shaw, Uszkoreit & Vaswani 2018 (arXiv 1803.02155), §3, and the
memory-efficient "skewing" of Music Transformer, Huang et al. 2019 (arXiv 1809.04281), §3.4.

Shaw et al. add learned *vectors* (not scalars) for the clipped relative position j − i to the keys
and to the values (eq. 3 and 4 of the paper, with d_a = D):

    e_ij = q_i·(k_j + a^K_ij) / √D                a^K_ij = w^K[clip(j − i, k)]
    z_i  = Σ_j α_ij (v_j + a^V_ij)                a^V_ij = w^V[clip(j − i, k)]
    clip(x, k) = max(−k, min(k, x))               2k + 1 learned vectors per table, shared by all heads

Computing a^K_ij naively builds a (T_q, T_k, D) tensor. Music Transformer instead multiplies the
queries by the L relative embeddings once, Q E_r^T (T, L), and *skews* that matrix into absolute
(query, key) order: pad a zero column on the left, reshape to (L+1, L), drop the first row. Memory
for the relative term drops from O(L²D) to O(LD) (L = 2048, D = 512, float32: 8.6 GB -> 4.2 MB).
The skew is exact on and below the diagonal (j ≤ i); above it the entries are garbage, which the
causal mask removes. For bidirectional attention `relative_to_absolute` does the same with 2L − 1
relative embeddings.

Index convention (tensor2tensor's `_generate_relative_positions_matrix`): index(i, j) = clip(j − i, k) + k,
so table row 0 is distance −k (k keys back) and row 2k is +k. Queries are the last T_q of T_k positions.

Shapes: q, k, v (B, H, T, D); tables w^K, w^V (2k + 1, D); logits (B, H, T_q, T_k).

Claims (each proved by the named test):
- skewed == naive, causal and bidirectional (tests/claims/test_relative_shaw.py::test_skewed_equals_naive_causal,
  ::test_relative_to_absolute_equals_naive_bidirectional)
- the skew is exact below the diagonal and garbage above (tests/claims/test_relative_shaw.py::test_skew_upper_triangle_is_garbage)
- distances beyond k share one vector (tests/claims/test_relative_shaw.py::test_clipping_shares_far_vectors)
- the key term is a vector: its logit contribution depends on the query, unlike a scalar bias
  (tests/claims/test_relative_shaw.py::test_key_term_depends_on_query_content)
- the value term uses bucketed sums of α and equals the naive (T, T, D) form
  (tests/claims/test_relative_shaw.py::test_value_term_efficient_equals_naive)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from peprep.encodings.attention import attention_weights


def relative_index(t_q: int, t_k: int, clip: int, device: torch.device | None = None) -> Tensor:
    """(T_q, T_k) long tensor clip(j − i, k) + k; queries are the last T_q of T_k positions."""
    i = torch.arange(t_k - t_q, t_k, device=device)[:, None]
    j = torch.arange(t_k, device=device)[None, :]
    return (j - i).clamp(-clip, clip) + clip


# --- the naive form: materialise a^K_ij ------------------------------------------------------------


def shaw_logits_naive(q: Tensor, k: Tensor, w_k: Tensor, clip: int) -> Tensor:
    """e_ij = q_i·(k_j + a^K_ij)/√D with a^K (T_q, T_k, D) built explicitly — O(T²D) memory."""
    a_k = w_k[relative_index(q.shape[-2], k.shape[-2], clip, q.device)]  # (T_q, T_k, D)
    content = q @ k.transpose(-2, -1)  # (B, H, T_q, T_k)
    position = torch.einsum("bhid,ijd->bhij", q, a_k)  # (B, H, T_q, T_k)
    return (content + position) / math.sqrt(q.shape[-1])


def shaw_attention_naive(q: Tensor, k: Tensor, v: Tensor, w_k: Tensor, w_v: Tensor, clip: int,
                         *, causal: bool = False) -> Tensor:
    """z_i = Σ_j α_ij (v_j + a^V_ij), both relative terms materialised as (T_q, T_k, D)."""
    logits = shaw_logits_naive(q, k, w_k, clip)
    if causal:
        t_q, t_k = logits.shape[-2:]
        logits = logits.masked_fill(~torch.ones(t_q, t_k, dtype=torch.bool, device=q.device).tril(t_k - t_q),
                                    float("-inf"))
    alpha = logits.softmax(dim=-1)  # (B, H, T_q, T_k)
    a_v = w_v[relative_index(q.shape[-2], k.shape[-2], clip, q.device)]  # (T_q, T_k, D)
    return alpha @ v + torch.einsum("bhij,ijd->bhid", alpha, a_v)


# --- skewing: relative columns -> absolute columns ------------------------------------------------


def skew(rel: Tensor) -> Tensor:
    """Music Transformer's skew. rel (..., L, L), column c = distance j − i = c − (L − 1) (−L+1 … 0);
    returns (..., L, L) with out[i, j] = rel[i, j − i + L − 1] for j ≤ i (garbage for j > i)."""
    *batch, length, cols = rel.shape
    padded = F.pad(rel, (1, 0))  # dummy zero column on the left: (..., L, L+1)
    return padded.reshape(*batch, cols + 1, length)[..., 1:, :]  # (L+1, L), drop the first row


def relative_to_absolute(rel: Tensor) -> Tensor:
    """Bidirectional skew. rel (..., T, 2T−1), column c = distance j − i = c − (T − 1);
    returns (..., T, T) with out[i, j] = rel[i, j − i + T − 1], exact everywhere."""
    *batch, t, cols = rel.shape
    if cols != 2 * t - 1:
        raise ValueError(f"relative_to_absolute needs 2T−1 = {2 * t - 1} columns, got {cols}")
    flat = F.pad(rel, (0, 1)).reshape(*batch, 2 * t * t)  # pad a column -> (T, 2T), flatten
    flat = F.pad(flat, (0, t - 1))  # (T+1)(2T−1) elements
    return flat.reshape(*batch, t + 1, 2 * t - 1)[..., :t, t - 1:]


def relative_embeddings(w: Tensor, clip: int, length: int, *, causal: bool) -> Tensor:
    """E_r: one row per distance, −(L−1) … 0 (causal) or −(L−1) … L−1, each the clipped table row."""
    hi = 0 if causal else length - 1
    r = torch.arange(-(length - 1), hi + 1, device=w.device)
    return w[r.clamp(-clip, clip) + clip]  # (L or 2L−1, D)


def shaw_logits_skewed(q: Tensor, k: Tensor, w_k: Tensor, clip: int, *, causal: bool) -> Tensor:
    """Same logits as `shaw_logits_naive` (on and below the diagonal when causal) in O(T·D) extra memory."""
    t = q.shape[-2]
    if k.shape[-2] != t:
        raise ValueError("the skew needs T_q == T_k; use shaw_logits_naive for a KV cache")
    rel = q @ relative_embeddings(w_k, clip, t, causal=causal).T  # (B, H, T, L) or (B, H, T, 2T−1)
    position = skew(rel) if causal else relative_to_absolute(rel)
    return (q @ k.transpose(-2, -1) + position) / math.sqrt(q.shape[-1])


def shaw_attention(q: Tensor, k: Tensor, v: Tensor, w_k: Tensor, w_v: Tensor, clip: int,
                   *, causal: bool = False) -> Tensor:
    """Shaw attention through the shared attention function, with no (T, T, D) tensor.

    The key term enters as a query-dependent additive bias; the value term is Σ_j α_ij w^V[idx(i, j)]
    = Σ_r (Σ_{j: idx = r} α_ij) w^V_r: sum α into its 2k + 1 distance buckets, then one small matmul.
    """
    t = q.shape[-2]
    rel = q @ relative_embeddings(w_k, clip, t, causal=causal).T
    bias = (skew(rel) if causal else relative_to_absolute(rel)) / math.sqrt(q.shape[-1])  # (B, H, T, T)
    alpha = attention_weights(q, k, causal=causal, bias=bias)  # masked entries are exactly 0
    index = relative_index(t, t, clip, q.device).expand_as(alpha)
    per_distance = torch.zeros(*alpha.shape[:-1], w_v.shape[0], dtype=alpha.dtype, device=alpha.device)
    per_distance.scatter_add_(-1, index, alpha)  # (B, H, T, 2k+1): Σ of α over keys at each clipped distance
    return alpha @ v + per_distance @ w_v


class ShawRelativeAttention(nn.Module):
    """The two learned tables w^K, w^V of one layer (shared by its heads), around `shaw_attention`."""

    def __init__(self, head_dim: int, clip: int):
        super().__init__()
        self.clip = clip
        self.w_k = nn.Parameter(torch.randn(2 * clip + 1, head_dim) * head_dim**-0.5)
        self.w_v = nn.Parameter(torch.randn(2 * clip + 1, head_dim) * head_dim**-0.5)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, *, causal: bool = False) -> Tensor:
        return shaw_attention(q, k, v, self.w_k, self.w_v, self.clip, causal=causal)
