"""TUPE, Transformer with untied positional encoding: Ke, He & Liu 2021 (arXiv 2006.15595), §3, and the
official code (guolinke/TUPE, fairseq/modules/transformer_sentence_encoder.py).

BERT adds p_i to the word embedding, so every logit mixes four correlations (word–word, word–position,
position–word, position–position). TUPE feeds only words to the layers and adds a separately
parameterised position–position term, each scaled by 1/√(2D):

    α_ij = (x_i W^Q)(x_j W^K)^T / √(2D)  +  (p_i U^Q)(p_j U^K)^T / √(2D)  [+ b_{bucket(j−i)} in TUPE-R]

The position term depends on positions only, so it is computed once (from the layer-normed absolute
embeddings) and shared by every layer; each head has its own slice of U^Q, U^K. "Untying [CLS]": the
first token's row and column of the position term are replaced by two learned scalars per head,
θ_1 ([CLS] to others, the row) and θ_2 (others to [CLS], the column), so [CLS] is not biased
towards its positional neighbours. (The code stores θ_1, θ_2 as the diagonal entries of two extra
position rows.)

Shapes: p (T, C) absolute position embeddings; U^Q, U^K (C, H·D); bias (H, T, T).

Claims (each proved by the named test):
- the position term is a function of positions only and untying [CLS] makes its row and column
  constant (tests/claims/test_relative_tupe.py::test_cls_row_and_column_are_untied)
- α = content + position with both scaled by 1/√(2D) (tests/claims/test_relative_tupe.py::test_scores_are_sum_of_untied_terms)
"""

from __future__ import annotations

import math

from torch import Tensor


def tupe_position_bias(
    p: Tensor, u_q: Tensor, u_k: Tensor, n_heads: int, *, cls_to_others: Tensor | None = None,
    others_to_cls: Tensor | None = None,
) -> Tensor:
    """(H, T, T) = (p U^Q)(p U^K)^T / √(2D) per head; θ_1, θ_2 (H,) replace the [CLS] row and column."""
    t = p.shape[0]
    pq = (p @ u_q).view(t, n_heads, -1).transpose(0, 1)  # (H, T, D)
    pk = (p @ u_k).view(t, n_heads, -1).transpose(0, 1)
    bias = pq @ pk.transpose(-2, -1) / math.sqrt(2 * pq.shape[-1])  # (H, T, T)
    if cls_to_others is not None:
        bias = bias.clone()
        bias[:, :, 0] = others_to_cls[:, None]  # column 0: every token attending to [CLS]
        bias[:, 0, :] = cls_to_others[:, None]  # row 0: [CLS] attending to every token (wins at (0, 0), as in the code)
    return bias


def tupe_scores(q: Tensor, k: Tensor, position_bias: Tensor) -> Tensor:
    """α = q k^T / √(2D) + position bias, shape (B, H, T, T); q, k come from word embeddings only."""
    return q @ k.transpose(-2, -1) / math.sqrt(2 * q.shape[-1]) + position_bias
