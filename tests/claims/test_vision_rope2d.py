"""Claims of chapter 6 (vision) about 2-D rotary position embedding (axial and mixed)."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.rope import rope
from peprep.encodings.rope_2d import (
    axial_angles,
    axial_frequencies,
    init_mixed_frequencies,
    mixed_angles,
    rope_2d,
)

F64 = torch.float64


def pair_scores(q, k, angles_q, angles_k, layout="interleaved"):
    """Score between q rotated at each position of angles_q and k rotated at each position of angles_k."""
    qr = rope_2d(q.expand(1, 1, angles_q.shape[-2], -1), angles_q, layout=layout)[0, 0]
    kr = rope_2d(k.expand(1, 1, angles_k.shape[-2], -1), angles_k, layout=layout)[0, 0]
    return (qr * kr).sum(-1)


@pytest.mark.parametrize("layout,first,base", [("interleaved", "x", 100.0), ("half", "y", 10000.0)])
def test_axial_score_depends_only_on_offset(layout, first, base):
    # For random q, k (D = 32): the score between (y, x) and (y + Δy, x + Δx) is the same for every (y, x),
    # in RoPE-ViT's convention (x first, interleaved, base 100) and Qwen2-VL's vision one (y first, half,
    # base 10000). Tolerance 1e-10 in float64.
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(32, generator=g, dtype=F64), torch.randn(32, generator=g, dtype=F64)
    ys, xs = torch.meshgrid(torch.arange(0, 30, 7), torch.arange(0, 30, 6), indexing="ij")
    ys, xs = ys.reshape(-1), xs.reshape(-1)
    for dy, dx in [(0, 0), (1, 0), (0, 1), (3, -5), (-8, 13)]:
        s = pair_scores(q, k, axial_angles(ys, xs, 32, base, first=first), axial_angles(ys + dy, xs + dx, 32, base, first=first),
                        layout)
        torch.testing.assert_close(s, s[:1].expand_as(s), rtol=0, atol=1e-10)
    # and a different offset gives a different score: position is really encoded
    s1 = pair_scores(q, k, axial_angles(ys, xs, 32, base), axial_angles(ys, xs + 1, 32, base))
    s2 = pair_scores(q, k, axial_angles(ys, xs, 32, base), axial_angles(ys + 1, xs, 32, base))
    assert not torch.allclose(s1, s2)


def test_axial_score_is_sum_of_row_and_column_rope():
    # Axial split: score(Δy, Δx) = [1-D RoPE score of the x channels at Δx] + [of the y channels at Δy],
    # each with frequencies base^(−4k/D) = 1-D RoPE for rotary width D/2. Hence
    # score(Δy, Δx) − score(Δy, 0) − score(0, Δx) + score(0, 0) = 0: no cross (diagonal) term.
    d, base = 32, 100.0
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(d, generator=g, dtype=F64), torch.randn(d, generator=g, dtype=F64)
    origin = torch.zeros(1, dtype=torch.long)

    def score(dy, dx):
        return pair_scores(q, k, axial_angles(origin, origin, d, base),
                           axial_angles(origin + dy, origin + dx, d, base))[0]

    for dy, dx in [(1, 1), (2, -3), (5, 4)]:
        assert float(score(dy, dx) - score(dy, 0) - score(0, dx) + score(0, 0)) == pytest.approx(0, abs=1e-10)
    half = d // 2  # x uses channels 0..15 (pairs 0..7), y channels 16..31
    x_part = (rope(q[:half].view(1, 1, 1, -1), torch.tensor([0]), base=base)
              * rope(k[:half].view(1, 1, 1, -1), torch.tensor([3]), base=base)).sum()
    y_part = (rope(q[half:].view(1, 1, 1, -1), torch.tensor([0]), base=base)
              * rope(k[half:].view(1, 1, 1, -1), torch.tensor([-2]), base=base)).sum()
    assert float(score(-2, 3)) == pytest.approx(float(x_part + y_part), abs=1e-6)  # float32 angles in rope()
    torch.testing.assert_close(axial_frequencies(d, base), base ** (-4 * torch.arange(d // 4, dtype=F64) / d))


def test_mixed_is_relative_and_sees_diagonals():
    # RoPE-Mixed: angle = x f^x + y f^y, still linear in (y, x), so the score depends on (Δy, Δx) only.
    # With f^x = f^y the angle depends on x + y: every pair rotates along the diagonal direction, and the
    # mixed term score(Δ, Δ) − score(Δ, 0) − score(0, Δ) + score(0, 0) is non-zero (impossible for axial).
    d, heads = 32, 4
    g = torch.Generator().manual_seed(2)
    fx, fy = init_mixed_frequencies(d, heads, generator=g)
    assert fx.shape == fy.shape == (heads, d // 2)
    torch.testing.assert_close(torch.hypot(fx, fy)[:, : d // 4], (10.0 ** (-4 * torch.arange(d // 4, dtype=F64) / d)).expand(heads, -1))
    q, k = torch.randn(d, generator=g, dtype=F64), torch.randn(d, generator=g, dtype=F64)
    ys, xs = torch.arange(0, 12, 5).repeat_interleave(3), torch.arange(0, 12, 5).repeat(3)
    for dy, dx in [(1, 2), (-4, 3)]:
        s = pair_scores(q, k, mixed_angles(ys, xs, fx[0], fy[0]), mixed_angles(ys + dy, xs + dx, fx[0], fy[0]))
        torch.testing.assert_close(s, s[:1].expand_as(s), rtol=0, atol=1e-10)
    f = torch.linspace(0.05, 1.0, d // 2, dtype=F64)
    origin = torch.zeros(1, dtype=torch.long)

    def score(dy, dx):
        return pair_scores(q, k, mixed_angles(origin, origin, f, f), mixed_angles(origin + dy, origin + dx, f, f))[0]

    assert torch.allclose(score(2, 0), score(0, 2))  # only x + y matters
    assert abs(float(score(2, 2) - score(2, 0) - score(0, 2) + score(0, 0))) > 1e-3
    # per-head angles rotate each head with its own frequencies
    x = torch.randn(1, heads, ys.numel(), d, generator=g, dtype=F64)
    per_head = rope_2d(x, mixed_angles(ys, xs, fx, fy))
    one = rope_2d(x[:, 1:2], mixed_angles(ys, xs, fx[1], fy[1]))
    torch.testing.assert_close(per_head[:, 1:2], one)
