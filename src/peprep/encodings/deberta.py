"""DeBERTa disentangled attention: He et al. 2021 (arXiv 2006.03654), §3.1, eq. (2)–(4), and the
official code (microsoft/DeBERTa, DeBERTa/deberta/disentangled_attention.py, da_utils.py), which
transformers' `DisentangledSelfAttention` (deberta_v2) follows.

Each token has a content vector H_i; relative positions have their own embeddings P (2k rows, shared
by all layers). Three of the four content/position cross terms are kept:

    Ã_ij = Q^c_i·K^c_j  +  Q^c_i·K^r_δ(i,j)  +  K^c_j·Q^r_δ(j,i)        (paper, eq. 4)
              c2c             c2p                  p2c
    H_o  = softmax(Ã / √(3D)) V^c                 Q^c = H W_q, K^c = H W_k, Q^r = P W_{q,r}, K^r = P W_{k,r}

    δ(i, j) = clamp(i − j + k, 0, 2k − 1)        k = the maximum relative distance (the "span")

position-to-position is dropped: with relative positions it carries no information about the
tokens. The √(3D) (the code: √(D · scale_factor), scale_factor = 1 + number of position terms)
keeps the sum of three terms at the variance of one.

Index used by the code (and this module's default): both c2p *and* p2c read row δ(i, j). The
official code re-uses `c2p_pos` for p2c (gather along dim −2), and transformers gathers
clamp(−(j − i) + k) on K^c Q^r^T and then transposes — also δ(i, j). The paper writes δ(j, i) for
p2c; `p2c_index="paper"` computes that, and the two differ unless the position table is symmetric.

DeBERTa-v2/v3 bucket the relative position logarithmically before indexing (`make_log_bucket_position`;
released configs: position_buckets = 256, max_relative_positions = −1 -> max_position_embeddings = 512,
span k = 256, share_att_key = true, position_biased_input = false):

    mid = bucket_size / 2;   |r| ≤ mid: r exactly;   else sign(r)·(⌈log(|r|/mid) / log((max−1)/mid) · (mid−1)⌉ + mid)

Shapes: q_c, k_c (B, H, T, D); q_r, k_r (H, 2k, D) (P projected, split into heads); rel_pos (T_q, T_k).

Claims (each proved by the named test):
- the scale is 1/√(3D) with both position terms (tests/claims/test_relative_deberta.py::test_scale_is_sqrt_3d)
- code index and paper index differ in general and agree for a symmetric table
  (tests/claims/test_relative_deberta.py::test_p2c_code_index_differs_from_paper)
- log buckets are exact within ±mid and reach ±(bucket_size − 1) at max_position − 1
  (tests/claims/test_relative_deberta.py::test_log_buckets_exact_inside_mid, ::test_log_buckets_range)
- equals transformers' deberta_v2 helpers and `disentangled_attention_bias` (tests/peers/test_relative_peers.py)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor


def make_log_bucket_position(relative_pos: Tensor, bucket_size: int, max_position: int) -> Tensor:
    """Log-bucketed relative positions (DeBERTa-v2): exact for |r| ≤ bucket_size/2, then log-spaced."""
    r = relative_pos.to(torch.float64)
    mid = bucket_size // 2
    # Inside ±mid the exact branch is taken; mid − 1 there only keeps log() finite.
    abs_pos = torch.where(r.abs() < mid, torch.full_like(r, mid - 1), r.abs())
    log_pos = torch.ceil(torch.log(abs_pos / mid) / math.log((max_position - 1) / mid) * (mid - 1)) + mid
    return torch.where(abs_pos <= mid, r, log_pos * torch.sign(r)).long()


def build_relative_position(t_q: int, t_k: int, *, bucket_size: int = -1, max_position: int = -1) -> Tensor:
    """(T_q, T_k) relative positions i − j (query minus key), log-bucketed when both sizes are > 0."""
    rel = torch.arange(t_q)[:, None] - torch.arange(t_k)[None, :]
    if bucket_size > 0 and max_position > 0:
        rel = make_log_bucket_position(rel, bucket_size, max_position)
    return rel


def disentangled_scores(
    q_c: Tensor,
    k_c: Tensor,
    q_r: Tensor,
    k_r: Tensor,
    rel_pos: Tensor,
    *,
    terms: Sequence[str] = ("c2p", "p2c"),
    p2c_index: Literal["code", "paper"] = "code",
) -> Tensor:
    """Ã / √(D · (1 + len(terms))), shape (B, H, T_q, T_k): c2c plus the chosen position terms."""
    span = q_r.shape[-2] // 2 if q_r is not None else k_r.shape[-2] // 2
    scale = math.sqrt(q_c.shape[-1] * (1 + len(terms)))
    scores = q_c @ k_c.transpose(-2, -1)  # c2c (B, H, T_q, T_k)
    delta_ij = (rel_pos + span).clamp(0, 2 * span - 1)  # δ(i, j) for every pair
    if "c2p" in terms:
        c2p = q_c @ k_r.transpose(-2, -1)  # (B, H, T_q, 2k): query i against every distance row
        scores = scores + c2p.gather(-1, delta_ij.expand(*c2p.shape[:2], -1, -1))
    if "p2c" in terms:
        row = delta_ij if p2c_index == "code" else (-rel_pos + span).clamp(0, 2 * span - 1)  # δ(j, i)
        p2c = k_c @ q_r.transpose(-2, -1)  # (B, H, T_k, 2k): key j against every distance row
        # entry (i, j) = K^c_j · Q^r_row(i,j): gather along the distance axis of key j's row
        scores = scores + p2c.gather(-1, row.T.expand(*p2c.shape[:2], -1, -1)).transpose(-2, -1)
    return scores / scale
