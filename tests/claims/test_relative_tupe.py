"""Claims of chapter 3 about TUPE's untied positional correlation (peprep.encodings.tupe)."""

from __future__ import annotations

import math

import torch

from peprep.encodings.tupe import tupe_position_bias, tupe_scores

T, C, H = 7, 16, 4
TOL = dict(rtol=0, atol=1e-12)


def weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    p = torch.randn(T, C, generator=g, dtype=torch.float64)
    u_q, u_k = (torch.randn(C, C, generator=g, dtype=torch.float64) for _ in range(2))
    return p, u_q, u_k


def test_scores_are_sum_of_untied_terms():
    # α = (x W^Q)(x W^K)^T/√(2D) + (p U^Q)(p U^K)^T/√(2D): no word–position cross terms.
    p, u_q, u_k = weights()
    d = C // H
    bias = tupe_position_bias(p, u_q, u_k, H)
    h = 1
    pq, pk = (p @ u_q)[:, h * d:(h + 1) * d], (p @ u_k)[:, h * d:(h + 1) * d]
    torch.testing.assert_close(bias[h], pq @ pk.T / math.sqrt(2 * d), **TOL)
    g = torch.Generator().manual_seed(1)
    q, k = (torch.randn(2, H, T, d, generator=g, dtype=torch.float64) for _ in range(2))
    torch.testing.assert_close(tupe_scores(q, k, bias), q @ k.transpose(-2, -1) / math.sqrt(2 * d) + bias, **TOL)


def test_cls_row_and_column_are_untied():
    # Untying [CLS]: its row is θ_1 and its column θ_2 for every position; the rest is unchanged.
    p, u_q, u_k = weights(2)
    theta1, theta2 = torch.arange(1.0, H + 1, dtype=torch.float64), -torch.arange(1.0, H + 1, dtype=torch.float64)
    tied = tupe_position_bias(p, u_q, u_k, H)
    untied = tupe_position_bias(p, u_q, u_k, H, cls_to_others=theta1, others_to_cls=theta2)
    assert torch.equal(untied[:, 0, :], theta1[:, None].expand(-1, T))
    assert torch.equal(untied[:, 1:, 0], theta2[:, None].expand(-1, T - 1))
    assert torch.equal(untied[:, 1:, 1:], tied[:, 1:, 1:])
