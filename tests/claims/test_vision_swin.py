"""Claims of chapter 6 (vision) about Swin's relative position bias table and its resizing."""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.swin_bias import (
    extrapolation_ratio,
    init_bias_table,
    log_coords_table,
    log_spaced,
    relative_offsets,
    relative_position_bias,
    relative_position_index,
    resize_bias_table,
    table_size,
    window_coords,
)

F64 = torch.float64


@pytest.mark.parametrize("window", [(7, 7), (4, 6), (12, 12)])
def test_index_depends_only_on_offset_and_covers_table(window):
    # index[i, j] is a one-to-one function of the offset (Δh, Δw): equal offsets -> equal rows, different
    # offsets -> different rows, and all (2M_h − 1)(2M_w − 1) rows are used (M = 7: 13² = 169).
    index = relative_position_index(window)
    off = relative_offsets(window)
    n = window[0] * window[1]
    assert index.shape == (n, n)
    seen: dict[tuple[int, int], int] = {}
    for i in range(n):
        for j in range(n):
            key = (int(off[i, j, 0]), int(off[i, j, 1]))
            assert seen.setdefault(key, int(index[i, j])) == int(index[i, j])
    assert len(set(seen.values())) == len(seen) == table_size(window)
    assert sorted(seen.values()) == list(range(table_size(window)))
    # the zero offset is the centre of the (2M−1)×(2M−1) table: row (M_h−1)(2M_w−1) + (M_w−1)
    assert torch.all(index.diagonal() == (window[0] - 1) * (2 * window[1] - 1) + (window[1] - 1))
    if window == (7, 7):
        assert table_size(window) == 169


def test_bias_is_translation_invariant():
    # B[h, i, j] depends on the pair's offset only: moving both tokens by the same vector inside the window
    # keeps the bias; the table has one column per head.
    window, heads = (7, 7), 3
    table = init_bias_table(window, heads, generator=torch.Generator().manual_seed(0)).double()
    bias = relative_position_bias(table, window)  # (3, 49, 49)
    assert bias.shape == (3, 49, 49)
    coords = window_coords(window).tolist()
    pos = {tuple(c): t for t, c in enumerate(coords)}
    for (a, b, shift) in [((0, 0), (2, 3), (4, 3)), ((6, 1), (3, 5), (-3, 0)), ((5, 5), (5, 5), (-5, -4))]:
        i, j = pos[a], pos[b]
        i2 = pos[(a[0] + shift[0], a[1] + shift[1])]
        j2 = pos[(b[0] + shift[0], b[1] + shift[1])]
        assert torch.equal(bias[:, i, j], bias[:, i2, j2])
    assert not torch.equal(bias[:, pos[(0, 0)], pos[(0, 1)]], bias[:, pos[(0, 1)], pos[(0, 0)]])  # direction matters
    with pytest.raises(ValueError, match="169 rows"):
        relative_position_bias(table[:-1], window)


def test_resize_keeps_same_window_and_stretches_offsets():
    # Fine-tuning Swin at 384 uses window 12 instead of 7: each head's 13×13 table image is resized to
    # 23×23 with bicubic interpolation (align_corners=False). Same window -> identity. The resize maps new
    # offset Δ to old offset ≈ Δ·13/23 (centres aligned), so the bias for "one patch to the right"
    # changes: the table is stretched, not extended. Checked on a table that is a smooth function of Δ.
    table = init_bias_table((7, 7), 2, generator=torch.Generator().manual_seed(0)).double()
    assert torch.equal(resize_bias_table(table, (7, 7), (7, 7)), table)
    g = lambda dh, dw: torch.exp(-(dh**2 + dw**2) / 30.0)  # noqa: E731  smooth "learned" bias
    d_old = torch.arange(-6, 7, dtype=F64)
    smooth = g(d_old[:, None], d_old[None, :]).reshape(-1, 1).repeat(1, 2)  # (169, 2)
    big = resize_bias_table(smooth, (7, 7), (12, 12))
    assert big.shape == (23 * 23, 2)
    new = big[:, 0].view(23, 23)
    assert new[11, 11] == pytest.approx(float(g(torch.tensor(0.0), torch.tensor(0.0))), abs=2e-3)  # Δ = 0 stays centred
    stretched = g(torch.tensor(0.0), torch.tensor(13 / 23 * 5))  # new Δw = 5 reads old Δw ≈ 2.83
    assert new[11, 16] == pytest.approx(float(stretched), abs=1e-2)  # cubic (a = −0.75) error
    assert abs(float(new[11, 16]) - float(g(torch.tensor(0.0), torch.tensor(5.0)))) > 0.1  # not the old Δ = 5 value


def test_log_spacing_reduces_extrapolation():
    # Swin-V2: pre-trained window 8, fine-tuned window 16. Linear coordinates reach ±15 after training on
    # ±7: 8/7 ≈ 1.14× beyond the trained range. Log-spaced ln(1 + |Δ|): ±2.079 -> ±2.773, about 0.33×.
    linear = extrapolation_ratio(7, 15)
    logged = extrapolation_ratio(float(log_spaced(torch.tensor(7.0))), float(log_spaced(torch.tensor(15.0))))
    assert linear == pytest.approx(1.14, abs=0.005)
    assert float(log_spaced(torch.tensor(7.0))) == pytest.approx(2.079, abs=5e-4)
    assert float(log_spaced(torch.tensor(15.0))) == pytest.approx(2.773, abs=5e-4)
    assert logged == pytest.approx(0.33, abs=0.005)
    # the official code's table: offsets of the pre-training window fill [−1, 1] after normalisation
    table = log_coords_table((8, 8))
    assert table.shape == (15, 15, 2)
    assert float(table.abs().max()) == pytest.approx(math.log2(9) / math.log2(8))
    wider = log_coords_table((16, 16), pretrained_window=(8, 8))  # fine-tuning: normalised by the old window
    assert float(wider.abs().max()) == pytest.approx(math.log2(8 * 15 / 7 + 1) / math.log2(8))
    assert float(wider.abs().max()) / float(table.abs().max()) < 1.35  # 15/7 ≈ 2.14× in linear units
