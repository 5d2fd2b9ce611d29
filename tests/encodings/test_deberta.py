"""peprep.encodings.deberta: shapes and term selection."""

from __future__ import annotations

import math

import torch

from peprep.encodings.deberta import build_relative_position, disentangled_scores


def test_shapes_and_term_selection():
    g = torch.Generator().manual_seed(0)
    q_c, k_c = (torch.randn(2, 3, 6, 4, generator=g) for _ in range(2))
    q_r, k_r = (torch.randn(3, 8, 4, generator=g) for _ in range(2))
    rel = build_relative_position(6, 6)
    assert disentangled_scores(q_c, k_c, q_r, k_r, rel).shape == (2, 3, 6, 6)
    c2p_only = disentangled_scores(q_c, k_c, q_r, k_r, rel, terms=("c2p",))
    # with one position term the scale is √(2D)
    no_pos = disentangled_scores(q_c, k_c, q_r, torch.zeros_like(k_r), rel, terms=("c2p",))
    torch.testing.assert_close(no_pos, q_c @ k_c.transpose(-2, -1) / math.sqrt(8))
    assert not torch.allclose(c2p_only, no_pos)


def test_bucketed_positions_shape():
    assert build_relative_position(300, 280, bucket_size=256, max_position=512).shape == (300, 280)
