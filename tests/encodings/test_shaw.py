"""peprep.encodings.shaw: shapes, index convention, module."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.shaw import ShawRelativeAttention, relative_embeddings, relative_index, relative_to_absolute, shaw_logits_skewed


def test_index_is_key_minus_query_plus_clip():
    assert relative_index(3, 3, 1).tolist() == [[1, 2, 2], [0, 1, 2], [0, 0, 1]]
    # queries are the last T_q of T_k positions (KV cache): the single query is position 4
    assert relative_index(1, 5, 2).tolist() == [[0, 0, 0, 1, 2]]


def test_relative_embeddings_rows_are_clipped_distances():
    w = torch.arange(5.0)[:, None]  # row r holds the value r (distance r − 2)
    assert relative_embeddings(w, 2, 4, causal=True)[:, 0].tolist() == [0, 0, 1, 2]  # −3→−2, −2, −1, 0
    assert relative_embeddings(w, 2, 3, causal=False)[:, 0].tolist() == [0, 1, 2, 3, 4]


def test_relative_to_absolute_rejects_wrong_width():
    with pytest.raises(ValueError):
        relative_to_absolute(torch.zeros(4, 6))


def test_skewed_logits_need_square_attention():
    q, k = torch.zeros(1, 1, 2, 4), torch.zeros(1, 1, 5, 4)
    with pytest.raises(ValueError):
        shaw_logits_skewed(q, k, torch.zeros(5, 4), 2, causal=True)


def test_module_shapes_and_gradients():
    module = ShawRelativeAttention(head_dim=8, clip=4)
    q, k, v = (torch.randn(2, 3, 10, 8, requires_grad=True) for _ in range(3))
    out = module(q, k, v, causal=True)
    assert out.shape == (2, 3, 10, 8)
    out.sum().backward()
    assert module.w_k.grad is not None and module.w_v.grad.abs().sum() > 0
