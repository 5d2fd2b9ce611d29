"""peprep.encodings.transformer_xl: shapes and conventions."""

from __future__ import annotations

import torch

from peprep.encodings.transformer_xl import rel_shift, sinusoid_relative, xl_attention


def test_rel_shift_keeps_shape():
    assert rel_shift(torch.zeros(2, 3, 5, 9)).shape == (2, 3, 5, 9)


def test_sinusoid_clamp_len():
    r = sinusoid_relative(10, 4, clamp_len=3)
    assert torch.equal(r[0], r[6])  # distances 9 and 3 share the clamped encoding
    assert not torch.equal(r[6], r[7])


def test_attention_with_memory_shapes():
    b, h, t, m, d = 2, 2, 5, 3, 4
    q = torch.randn(b, h, t, d)
    k, v = torch.randn(b, h, t + m, d), torch.randn(b, h, t + m, d)
    r = torch.randn(h, t + m, d)
    u, vb = torch.randn(h, d), torch.randn(h, d)
    assert xl_attention(q, k, v, r, u, vb).shape == (b, h, t, d)
