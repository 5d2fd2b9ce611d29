"""Position ids in practice: padded batches, decoding steps and packed sequences.

Every encoding reads positions from an integer tensor `position_ids` (B, T). Who builds that tensor
decides whether a model sees the positions it was trained on. The rules, as Hugging Face
`transformers` 5.x implements them (generation/utils.py `_prepare_position_ids_for_generation`,
masking_utils.py `find_packed_sequence_indices`, modeling_flash_attention_utils.py
`prepare_fa_kwargs_from_position_ids`, data/data_collator.py `DataCollatorWithFlattening`):

    padded batch      pos[b, t] = (Σ_{s ≤ t} m[b, s]) − 1   real tokens numbered 0, 1, 2, … in order
                      pads get 0 (any valid index: they are masked out)
    next decode step  pos[b] = Σ_s m[b, s]                 the number of real tokens so far, not T
    packed row        positions restart at 0 for every document: [0 1 2 | 0 1 | 0 1 2 3]
                      document id  = cumsum(diff(pos) ≠ 1)     a new document where pos does not grow by 1
                      cu_seqlens   = [indices where pos == min(pos)] + [N]   (int32, FlashAttention varlen)

m is the attention mask (1 = real token, 0 = padding). Shapes: masks and ids (B, T); boolean
attention masks (B, T_q, T_k), True where query i may attend to key j.

Claims (each proved by the named test):
- left, right and no padding give the same positions to the real tokens
  (tests/claims/test_engineering_positions.py::test_left_and_right_padding_number_real_tokens_alike)
- equals transformers' generation rule, packed-sequence detection and cu_seqlens
  (tests/claims/test_engineering_peers.py::test_position_ids_match_transformers_generation,
   ::test_packed_helpers_match_transformers)
- a block-diagonal causal mask makes a packed row equal to separate runs
  (tests/claims/test_engineering_positions.py::test_packed_row_equals_separate_documents)
"""

from __future__ import annotations

import torch
from torch import Tensor


def position_ids_from_attention_mask(attention_mask: Tensor) -> Tensor:
    """(B, T) long: real tokens numbered 0, 1, … in order; pads 0. Works for left and right padding."""
    mask = attention_mask.long()
    positions = mask.cumsum(dim=-1) - 1  # the k-th real token (1-based count) gets k - 1
    return positions.masked_fill(mask == 0, 0)  # pads would be -1 before their first real token


def next_position_ids(attention_mask: Tensor) -> Tensor:
    """(B, 1) long: the position of the token generated next = number of real tokens so far."""
    return attention_mask.long().sum(dim=-1, keepdim=True)


def packed_position_ids(seq_lens: list[int], *, start: int = 0) -> Tensor:
    """(1, N) long for documents of the given lengths packed into one row; each restarts at `start`.

    `start` is 0 for most models and padding_idx + 1 (usually 2) for RoBERTa-like absolute tables
    (DataCollatorWithFlattening's `position_ids_start`).
    """
    if any(n <= 0 for n in seq_lens):
        raise ValueError(f"every packed document needs at least one token, got lengths {seq_lens}")
    return torch.cat([torch.arange(n) + start for n in seq_lens])[None]


def sequence_ids_from_position_ids(position_ids: Tensor) -> Tensor:
    """(B, N) long document index per token: a new document begins where positions do not grow by 1."""
    first = position_ids[:, :1] - 1  # so that the first token never starts a "new" document by itself
    step = torch.diff(position_ids, prepend=first, dim=-1)
    return (step != 1).long().cumsum(dim=-1)


def cu_seqlens_from_position_ids(position_ids: Tensor) -> Tensor:
    """(num_docs + 1,) int32 cumulative lengths [0, n_1, n_1 + n_2, …, N] of one packed row.

    Like transformers' `prepare_fa_kwargs_from_position_ids`: a document starts wherever the position
    equals the smallest position in the row.
    """
    flat = position_ids.reshape(-1)
    starts = (flat == flat.min()).nonzero().reshape(-1)
    return torch.cat([starts, torch.tensor([flat.numel()])]).to(torch.int32)


def packed_causal_mask(position_ids: Tensor) -> Tensor:
    """(B, N, N) bool: token i sees token j iff both are in the same document and j <= i."""
    doc = sequence_ids_from_position_ids(position_ids)  # (B, N)
    n = position_ids.shape[-1]
    same_doc = doc[:, :, None] == doc[:, None, :]  # (B, N, N)
    causal = torch.ones(n, n, dtype=torch.bool, device=position_ids.device).tril()
    return same_doc & causal


def padded_causal_mask(attention_mask: Tensor) -> Tensor:
    """(B, T, T) bool: causal and the key is a real token. A pad query keeps only itself.

    Left padding makes the pad queries' rows empty (no earlier real key); keeping the diagonal avoids
    an all -inf row. Their outputs are garbage either way and must be ignored.
    """
    t = attention_mask.shape[-1]
    causal = torch.ones(t, t, dtype=torch.bool, device=attention_mask.device).tril()
    allowed = causal & attention_mask.bool()[:, None, :]
    return allowed | torch.eye(t, dtype=torch.bool, device=attention_mask.device)
