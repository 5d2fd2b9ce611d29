"""Dual Chunk Attention (DCA): remap every relative position below the pre-training length, no training.

An et al. 2024, "Training-Free Long-Context Scaling of Large Language Models" (ICML 2024, arXiv
2402.17463; official code HKUNLP/ChunkLlama), §3.1-3.4, eqs. (2)-(9) and Algorithm 1 (App. A.2).
Used with YaRN's attention scaling by Qwen2.5-1M (Yang et al. 2025, arXiv 2501.15383, §5.1).

Notation (everything 0-based):

    i, j            absolute index of the query / key, causal: 0 <= j <= i < T
    s               chunk size, s < c; token t lies in chunk ⌊t/s⌋ at in-chunk offset t mod s
    w               local window of the successive-chunk piece, 0 <= w <= c − s (paper: w = c − s)
    c               pre-training context length: the model has seen positions 0 … c − 1

    P_k[j]          = j mod s                                   keys: one rotation, cacheable
    P_q^intra[i]    = i mod s                                   eq. (2)
    P_q^succ[i]     = s + (i mod s)  if i mod s < w,  else c − 1    eq. (7)
    P_q^inter[i]    = c − 1                                     eq. (5)

    M[i][j] = P_q^intra[i] − P_k[j]   if ⌊i/s⌋ − ⌊j/s⌋ = 0   intra-chunk: exactly i − j
              P_q^succ[i]  − P_k[j]   if ⌊i/s⌋ − ⌊j/s⌋ = 1   successive chunk
              P_q^inter[i] − P_k[j]   if ⌊i/s⌋ − ⌊j/s⌋ > 1   inter-chunk: c − 1 − (j mod s) ∈ [c − s, c − 1]

    logit[i][j] = f(q_i, P_q^•[i])ᵀ f(k_j, P_k[j]) / √D     (eq. 8; f = RoPE, • = the piece of (i, j))
    p_i = softmax over all j <= i of the three pieces together  (eq. 9)

Algorithm 1 computes the three pieces as three FlashAttention calls (intra causal, the other two not)
and merges them with their softmax normalisers; `dca_attention_by_pieces` does the same with the
log-sum-exp of each piece, which is what the official code and vLLM's backend return from FlashAttention.

The official code (ChunkLlama `chunkllama_attn_replace.py`; vLLM `DualChunkRotaryEmbedding`, used by
Qwen2.5-1M) is configured by `chunk_size` and `local_size`: its chunks have length
chunk_size − local_size and its largest query position is chunk_size, i.e. the formulas above with
s = chunk_size − local_size, w = local_size, c − 1 = chunk_size (`dca_from_code_config`).

Claims (each proved by a test):
- every causal relative position is in [0, c − 1]:  tests/claims/test_extrapolation_dca.py::test_every_relative_position_is_nonnegative_and_below_pretraining_length
- intra-chunk positions are exact:                  tests/claims/test_extrapolation_dca.py::test_intra_chunk_positions_are_exact
- keys within distance w keep i − j (w <= s):       tests/claims/test_extrapolation_dca.py::test_successive_chunk_keeps_the_nearest_keys_exact
- = plain RoPE attention when T <= s:               tests/claims/test_extrapolation_dca.py::test_equals_rope_attention_within_one_chunk
- the paper's and Qwen's worked examples:           tests/claims/test_extrapolation_dca.py::test_paper_figure_2_example, ::test_qwen_report_figure_2b
- the official code's rule, c − 1 = chunk_size:     tests/claims/test_extrapolation_dca.py::test_official_code_rule_is_the_paper_rule_with_c_minus_1_equal_to_chunk_size
- three pieces merged by log-sum-exp = one softmax: tests/claims/test_extrapolation_dca.py::test_flash_style_merge_equals_one_softmax_over_the_union
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
from torch import Tensor

from peprep.encodings.rope import Layout, angles, apply_rotary, cos_sin, inv_freq
from peprep.encodings.rope_scaling import yarn_mscale

INTRA, SUCC, INTER, MASKED = 0, 1, 2, -1  # piece codes returned by `dca_pieces`


class DCAPositions(NamedTuple):
    """Position ids of DCA, each (T,) int64: one set for the keys, three for the queries."""

    key: Tensor  # P_k = j mod s
    intra: Tensor  # P_q^intra = i mod s
    succ: Tensor  # P_q^succ = s + (i mod s) for i mod s < w, else c − 1
    inter: Tensor  # P_q^inter = c − 1


def _check(chunk_size: int, local_window: int, pretrained_length: int) -> None:
    if chunk_size < 1 or pretrained_length <= chunk_size:
        raise ValueError(f"need 1 <= chunk_size < pretrained_length, got s={chunk_size}, c={pretrained_length}")
    if not 0 <= local_window <= pretrained_length - chunk_size:
        raise ValueError(
            f"need 0 <= local_window <= c − s = {pretrained_length - chunk_size} (the paper's default), got w={local_window}"
        )


def dca_position_ids(length: int, chunk_size: int, local_window: int, pretrained_length: int) -> DCAPositions:
    """P_k, P_q^intra, P_q^succ, P_q^inter for T = `length` tokens (eqs. 2, 5, 7)."""
    _check(chunk_size, local_window, pretrained_length)
    offset = torch.arange(length) % chunk_size  # in-chunk offset t mod s
    succ = torch.where(offset < local_window, chunk_size + offset, torch.full_like(offset, pretrained_length - 1))
    return DCAPositions(key=offset, intra=offset.clone(), succ=succ, inter=torch.full_like(offset, pretrained_length - 1))


def dca_pieces(length: int, chunk_size: int) -> Tensor:
    """(T, T) int64: INTRA (0) if ⌊i/s⌋ = ⌊j/s⌋, SUCC (1) if one chunk apart, INTER (2) if more; MASKED (−1) for j > i."""
    chunk = torch.arange(length) // chunk_size
    gap = chunk[:, None] - chunk[None, :]  # ⌊i/s⌋ − ⌊j/s⌋
    piece = torch.where(gap == 0, INTRA, torch.where(gap == 1, SUCC, INTER))
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    return piece.masked_fill(~causal, MASKED)


def dca_relative_positions(length: int, chunk_size: int, local_window: int, pretrained_length: int) -> Tensor:
    """M (T, T) int64: the relative position RoPE sees for each causal pair (j <= i); the upper triangle
    holds the plain i − j (negative) and is unused."""
    pos = dca_position_ids(length, chunk_size, local_window, pretrained_length)
    piece = dca_pieces(length, chunk_size)
    rel = torch.stack([pos.intra, pos.succ, pos.inter])[piece.clamp(min=0), torch.arange(length)[:, None]]
    rel = rel - pos.key[None, :]  # P_q^•[i] − P_k[j]
    plain = torch.arange(length)[:, None] - torch.arange(length)[None, :]
    return torch.where(piece == MASKED, plain, rel)


def _rotate(x: Tensor, positions: Tensor, base: float, layout: Layout) -> Tensor:
    """RoPE on all channels of x (..., T, D) at integer positions (T,); angles in float64 for float64 x."""
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    cos, sin = cos_sin(angles(positions.to(x.device), inv_freq(x.shape[-1], base), dtype=dtype), layout)
    return apply_rotary(x, cos, sin, layout=layout)


def dca_logits(
    q: Tensor,
    k: Tensor,
    chunk_size: int,
    local_window: int,
    pretrained_length: int,
    *,
    base: float = 10000.0,
    layout: Layout = "interleaved",
) -> Tensor:
    """DCA logits (..., T, T) for q, k (..., T, D) before RoPE: eq. (8) divided by √D, −inf for j > i.

    k is rotated once at P_k; q three times (P_q^intra, P_q^succ, P_q^inter); each (i, j) takes the
    logit of its piece. Computed as three full matrices for readability, not speed.
    """
    t = q.shape[-2]
    pos = dca_position_ids(t, chunk_size, local_window, pretrained_length)
    k_rot = _rotate(k, pos.key, base, layout)
    scale = 1 / math.sqrt(q.shape[-1])
    per_piece = [_rotate(q, p, base, layout) @ k_rot.transpose(-2, -1) * scale for p in (pos.intra, pos.succ, pos.inter)]
    piece = dca_pieces(t, chunk_size).to(q.device)
    logits = torch.where(piece == INTRA, per_piece[0], torch.where(piece == SUCC, per_piece[1], per_piece[2]))
    return logits.masked_fill(piece == MASKED, float("-inf"))


def dca_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    chunk_size: int,
    local_window: int,
    pretrained_length: int,
    *,
    base: float = 10000.0,
    layout: Layout = "interleaved",
) -> Tensor:
    """softmax(DCA logits) v: one softmax over the union of the three pieces (eq. 9), (..., T, D_v)."""
    logits = dca_logits(q, k, chunk_size, local_window, pretrained_length, base=base, layout=layout)
    return logits.softmax(dim=-1) @ v


def _partial_attention(logits: Tensor, allowed: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """Softmax restricted to `allowed` keys: (output, log-sum-exp); a row with no allowed key gives
    output 0 and lse −inf, as a FlashAttention call over an empty key range contributes nothing."""
    logits = logits.masked_fill(~allowed, float("-inf"))
    lse = torch.logsumexp(logits, dim=-1)  # (..., T)
    safe = torch.where(torch.isfinite(lse), lse, torch.zeros_like(lse))
    weights = torch.where(allowed, (logits - safe[..., None]).exp(), torch.zeros_like(logits))
    return weights @ v, lse


def merge_attention_pieces(outputs: Sequence[Tensor], lses: Sequence[Tensor]) -> Tensor:
    """Σ_p exp(lse_p − lse) · o_p with lse = log Σ_p exp(lse_p): each piece's own softmax output
    reweighted by its share of the total normaliser (Algorithm 1's sum_p · o_p / Σ sum_p)."""
    lse = torch.stack(list(lses))  # (P, ..., T)
    weights = (lse - torch.logsumexp(lse, dim=0, keepdim=True)).exp().nan_to_num(0.0)  # empty piece -> 0
    return (weights[..., None] * torch.stack(list(outputs))).sum(dim=0)


def dca_attention_by_pieces(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    chunk_size: int,
    local_window: int,
    pretrained_length: int,
    *,
    base: float = 10000.0,
    layout: Layout = "interleaved",
) -> Tensor:
    """The same output as `dca_attention`, computed the FlashAttention way: three separate softmaxes
    (intra, successive, inter), each returning its log-sum-exp, merged by `merge_attention_pieces`."""
    t = q.shape[-2]
    logits = dca_logits(q, k, chunk_size, local_window, pretrained_length, base=base, layout=layout)
    piece = dca_pieces(t, chunk_size).to(q.device)
    parts = [_partial_attention(logits, piece == p, v) for p in (INTRA, SUCC, INTER)]
    return merge_attention_pieces([o for o, _ in parts], [lse for _, lse in parts])


def dca_from_code_config(chunk_size: int, local_size: int) -> tuple[int, int, int]:
    """(s, w, c) of the paper for the official code's (`chunk_size`, `local_size`).

    ChunkLlama and vLLM rotate queries of the successive piece at min(t mod L + L, chunk_size) and of
    the inter piece at chunk_size, with chunk length L = chunk_size − local_size: the paper's rule
    with s = L, w = local_size and c − 1 = chunk_size (valid while local_size < L).
    Qwen2.5-1M (chunk_size = local_size + 253952 = 262144): s = 253952, w = 8192, largest position 262144.
    ChunkLlama's default for a 4096 model: chunk_size = 3072 and local_size = 4096/8 = 512 (4096/16 = 256
    before April 2024): s = 2560 (2816), w = 512 (256), largest position 3072 either way.
    """
    s = chunk_size - local_size
    if local_size < 0 or local_size >= s:
        raise ValueError(f"the code's rule needs 0 <= local_size < chunk_size − local_size, got {chunk_size}, {local_size}")
    return s, local_size, chunk_size + 1


def dca_length_scaling(seq_len: int, original_max_position_embeddings: int) -> float:
    """max(1, 0.1 ln(T / L) + 1): YaRN's factor with s = T/L, as Qwen2.5-1M's vLLM backend computes it.

    The backend multiplies the keys by it and, at prefill, the softmax scale (at decode, the queries),
    so the logits are multiplied by its square — YaRN's 1/t with √(1/t) = 0.1 ln s + 1. It is exactly 1
    up to the training length L (`original_max_position_embeddings`).
    """
    if seq_len < 1 or original_max_position_embeddings < 1:
        raise ValueError("lengths must be positive")
    return yarn_mscale(seq_len / original_max_position_embeddings)
