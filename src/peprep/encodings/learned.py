"""Learned absolute position embeddings: a trainable table P of shape (L_max, d), one row per position.

    x_t = E[token_t] + P[t]          t = 0 … L_max − 1

Used by BERT (Devlin et al. 2019, arXiv 1810.04805; L_max = max_position_embeddings = 512,
truncated-normal init with stddev initializer_range = 0.02 in google-research/bert modeling.py) and
GPT-2 (Radford et al. 2019; wpe of shape [n_ctx = 1024, n_embd], normal init stddev 0.01 in
openai/gpt-2 src/model.py, while HF transformers initialises every embedding with
initializer_range = 0.02). RoBERTa-style tables hold L_max + 2 rows because positions start at
padding_idx + 1 = 2.

Position t only ever receives gradient through the rows that training sequences reach, so a row
beyond L_max does not exist and a row near L_max that short training sequences rarely reach is
barely trained. Looking up a position outside [0, L_max) raises `PositionOutOfRange` with the
numbers in the message instead of an opaque CUDA index assertion.

Extending a trained table to a longer context (both leave the old rows untouched):
- `extend_by_copying`: row p of the new table = row p mod L_max (Longformer, Beltagy et al. 2020,
  copied RoBERTa's 512 rows to 4096);
- `extend_by_interpolation`: linear interpolation at p · (L_max − 1)/(L_new − 1), the 1-D analogue
  of ViT's resizing of its position grid.

Shapes: table (L_max, d); positions (...,) integer -> (..., d); model inputs x (B, T, C).

Claims (each proved by the named test):
- a position >= L_max (or < 0) raises PositionOutOfRange naming the position and L_max
  (tests/claims/test_absolute_learned.py::test_lookup_beyond_max_length_raises_clear_error)
- copying keeps the old rows and repeats them with period L_max
  (tests/claims/test_absolute_learned.py::test_extend_by_copying_repeats_rows)
- interpolation keeps both end rows and is exact on a table linear in p
  (tests/claims/test_absolute_learned.py::test_extend_by_interpolation_keeps_ends_and_lines)
- TF's truncated normal (BERT's init) has std ≈ 0.88 × its stddev argument
  (tests/claims/test_absolute_learned.py::test_truncated_normal_std_is_smaller_than_its_argument)
- lookups equal BERT's, GPT-2's and x-transformers' tables (tests/peers/test_absolute_peers.py)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

INIT_STD = 0.02  # BERT's initializer_range and HF's default for GPT-2; OpenAI's GPT-2 code used 0.01 for wpe


class PositionOutOfRange(IndexError):
    """A position the learned table has no row for."""


def init_learned_table(
    max_len: int, d: int, *, std: float = INIT_STD, truncated: bool = False, generator: torch.Generator | None = None
) -> Tensor:
    """A fresh (max_len, d) table ~ N(0, std²); `truncated` redraws values beyond ±2·std like TF's
    truncated_normal_initializer (BERT), which makes the actual std ≈ 0.88·std."""
    table = torch.empty(max_len, d)
    if truncated:
        return nn.init.trunc_normal_(table, std=std, a=-2 * std, b=2 * std, generator=generator)
    return nn.init.normal_(table, std=std, generator=generator)


def learned_lookup(table: Tensor, positions: Tensor) -> Tensor:
    """table[positions], shape (*positions.shape, d); positions must be integers in [0, L_max)."""
    max_len = table.shape[0]
    if positions.is_floating_point():
        raise TypeError("a learned table has rows only at integer positions; interpolate the table instead")
    if positions.numel():
        low, high = int(positions.min()), int(positions.max())
        if low < 0 or high >= max_len:
            bad = high if high >= max_len else low
            raise PositionOutOfRange(
                f"position {bad} is outside the learned table: it has rows for positions 0..{max_len - 1} "
                f"(max_len={max_len}). Learned absolute embeddings cannot extrapolate; truncate or slide the "
                f"input, or extend the table (extend_by_copying / extend_by_interpolation) and fine-tune."
            )
    return F.embedding(positions, table)


def extend_by_copying(table: Tensor, new_len: int) -> Tensor:
    """(new_len, d) table whose row p is table[p mod L_max] (Longformer's initialisation)."""
    max_len = table.shape[0]
    if new_len < max_len:
        raise ValueError(f"new_len={new_len} is shorter than the table ({max_len}); slice it instead")
    return table[torch.arange(new_len) % max_len]


def extend_by_interpolation(table: Tensor, new_len: int) -> Tensor:
    """(new_len, d) table sampled linearly at p · (L_max − 1)/(new_len − 1) of the old one.

    Ends stay fixed (align_corners=True): new row 0 = old row 0, new last row = old last row.
    """
    max_len = table.shape[0]
    if new_len < 2 or max_len < 2:
        raise ValueError("interpolation needs at least 2 rows before and after")
    resized = F.interpolate(table.T[None], size=new_len, mode="linear", align_corners=True)  # (1, d, new_len)
    return resized[0].T.contiguous()


class LearnedPositionalEmbedding(nn.Module):
    """x + P[positions] for x of shape (B, T, C), with P a trainable (max_len, C) table.

    Same call as `SinusoidalPositionalEncoding`: default positions offset … offset+T−1.
    """

    def __init__(self, max_len: int, d_model: int, *, std: float = INIT_STD, truncated: bool = False):
        super().__init__()
        self.max_len = max_len
        self.table = nn.Parameter(init_learned_table(max_len, d_model, std=std, truncated=truncated))

    def forward(self, x: Tensor, *, positions: Tensor | None = None, offset: int = 0) -> Tensor:
        if positions is None:
            positions = torch.arange(offset, offset + x.shape[1], device=x.device)  # (T,)
        return x + learned_lookup(self.table, positions)  # (B, T, C)
