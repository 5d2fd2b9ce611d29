"""peprep.encodings.dual_chunk: shapes, piece codes, masking, layouts, the KV-cache property, errors."""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.attention import scaled_dot_product_attention
from peprep.encodings.dual_chunk import (
    INTER,
    INTRA,
    MASKED,
    SUCC,
    dca_attention,
    dca_attention_by_pieces,
    dca_from_code_config,
    dca_length_scaling,
    dca_logits,
    dca_pieces,
    dca_position_ids,
    dca_relative_positions,
    merge_attention_pieces,
)
from peprep.encodings.rope import rope

F64 = torch.float64


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_position_ids_shapes_and_values():
    pos = dca_position_ids(13, 4, 2, 7)
    for p in pos:
        assert p.shape == (13,) and p.dtype == torch.int64
    assert pos.key.tolist() == [0, 1, 2, 3] * 3 + [0]
    assert torch.equal(pos.intra, pos.key)
    assert pos.succ.tolist() == [4, 5, 6, 6] * 3 + [4]  # s + offset for offset < w = 2, else c − 1 = 6
    assert pos.inter.tolist() == [6] * 13


def test_piece_codes():
    piece = dca_pieces(7, 2)  # chunks [0 1] [2 3] [4 5] [6]
    assert piece[1, 0] == INTRA and piece[3, 1] == SUCC and piece[4, 1] == INTER and piece[0, 1] == MASKED
    assert torch.all(piece.diagonal() == INTRA)
    assert torch.all(piece.triu(1)[piece.triu(1) != 0] == MASKED)
    assert (piece == INTER).sum() == sum(1 for i in range(7) for j in range(i + 1) if i // 2 - j // 2 > 1)


def test_relative_positions_upper_triangle_is_plain_offset():
    rel = dca_relative_positions(9, 3, 2, 6)
    plain = torch.arange(9)[:, None] - torch.arange(9)[None, :]
    upper = torch.ones(9, 9, dtype=torch.bool).triu(1)
    assert torch.equal(rel[upper], plain[upper])


def test_logits_shape_mask_and_batch_axes():
    q, k = randn(2, 3, 11, 8, seed=1), randn(2, 3, 11, 8, seed=2)
    logits = dca_logits(q, k, 4, 2, 7)
    assert logits.shape == (2, 3, 11, 11)
    upper = torch.ones(11, 11, dtype=torch.bool).triu(1)
    assert torch.all(logits[..., upper] == float("-inf"))
    assert torch.all(torch.isfinite(logits[..., ~upper]))
    # each (batch, head) is computed independently
    assert torch.allclose(logits[1, 2], dca_logits(q[1, 2], k[1, 2], 4, 2, 7))


@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_both_layouts_reduce_to_plain_rope_within_a_chunk(layout):
    q, k, v = randn(1, 2, 6, 8, seed=3), randn(1, 2, 6, 8, seed=4), randn(1, 2, 6, 8, seed=5)
    pos = torch.arange(6)
    ref = scaled_dot_product_attention(rope(q, pos, layout=layout), rope(k, pos, layout=layout), v, causal=True)
    out = dca_attention(q, k, v, 6, 2, 8, layout=layout)
    assert torch.allclose(out, ref, atol=1e-6)


def test_rows_sum_to_one_and_by_pieces_agrees_in_float32():
    q, k, v = (randn(1, 1, 20, 8, seed=s).float() for s in (6, 7, 8))
    weights = dca_logits(q, k, 5, 3, 9).softmax(-1)
    assert torch.allclose(weights.sum(-1), torch.ones(1, 1, 20))
    assert torch.allclose(dca_attention(q, k, v, 5, 3, 9), dca_attention_by_pieces(q, k, v, 5, 3, 9), atol=1e-5)


def test_merge_of_a_single_piece_is_that_piece():
    o, lse = randn(3, 4, seed=9), randn(3, seed=10)
    assert torch.allclose(merge_attention_pieces([o], [lse]), o)
    empty = torch.full((3,), float("-inf"), dtype=F64)  # a piece with no keys contributes nothing
    assert torch.allclose(merge_attention_pieces([o, torch.zeros_like(o)], [lse, empty]), o)


def test_keys_are_rotated_once_so_a_kv_cache_works():
    """P_k[j] = j mod s does not depend on the query or on T: keys rotated at prefill can be cached, and
    the last row of a longer run equals one decoding step over the cached keys (unlike ReRoPE)."""
    short, long = dca_position_ids(17, 4, 2, 7), dca_position_ids(30, 4, 2, 7)
    assert torch.equal(long.key[:17], short.key)
    q, k = randn(1, 1, 30, 8, seed=11), randn(1, 1, 30, 8, seed=12)
    full = dca_logits(q, k, 4, 2, 7)
    for t in (5, 9, 17, 30):
        assert torch.allclose(dca_logits(q[..., :t, :], k[..., :t, :], 4, 2, 7)[..., -1, :], full[..., t - 1, :t])


def test_code_config_mapping_and_errors():
    assert dca_from_code_config(262144, 8192) == (253952, 8192, 262145)
    assert dca_from_code_config(3072, 256) == (2816, 256, 3073)
    assert dca_from_code_config(3072, 512) == (2560, 512, 3073)
    with pytest.raises(ValueError):
        dca_from_code_config(8, 4)  # local_size must be < chunk_size − local_size


def test_invalid_parameters_raise():
    with pytest.raises(ValueError):
        dca_position_ids(10, 8, 0, 8)  # s must be < c
    with pytest.raises(ValueError):
        dca_position_ids(10, 6, 5, 10)  # w > c − s
    with pytest.raises(ValueError):
        dca_position_ids(10, 0, 0, 10)
    with pytest.raises(ValueError):
        dca_length_scaling(0, 100)


def test_length_scaling_values():
    assert dca_length_scaling(100, 100) == 1.0 and dca_length_scaling(50, 100) == 1.0
    assert math.isclose(dca_length_scaling(400, 100), 0.1 * math.log(4) + 1)
