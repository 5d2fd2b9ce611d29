"""Claims of chapter 6 (vision) about VideoRoPE (Wei et al. 2025) and what it changes in M-RoPE."""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.mrope import QWEN2_VL_SECTION, Text, Vision, mrope_position_ids, section_axes
from peprep.encodings.mrope import vision_position_ids as mrope_vision_ids
from peprep.encodings.rope import inv_freq, rope, wavelengths
from peprep.encodings.video_rope import (
    apply_videorope,
    axis_wavelengths,
    video_position_ids,
    videorope_axes,
    videorope_position_ids,
)

F64 = torch.float64
BASE = 1e6  # Qwen2 / Qwen2-VL rope_theta; the base VideoRoPE's V-NIAH-D period is computed with


def test_time_gets_highest_frequencies_in_mrope_lowest_in_videorope():
    # d = 128, 64 pairs, θ_n = β^(−2n/d). M-RoPE [16, 24, 24] chunked: t on pairs 0..15 (the fastest).
    # VideoRoPE (LTA): h, w interleaved on pairs 0..47, t on pairs 48..63 (the slowest); same 16/24/24 budget.
    m_axes, v_axes = section_axes(128, QWEN2_VL_SECTION), videorope_axes(128, QWEN2_VL_SECTION)
    assert (m_axes == 0).nonzero().flatten().tolist() == list(range(16))
    assert (v_axes == 0).nonzero().flatten().tolist() == list(range(48, 64))
    assert v_axes[:48].tolist() == [1, 2] * 24
    counts = [[(axes == a).sum().item() for a in range(3)] for axes in (m_axes, v_axes)]
    assert counts == [[16, 24, 24], [16, 24, 24]]
    # wavelengths 2π·β^(2n/d) in temporal-id units at β = 10^6
    m_t, v_t = axis_wavelengths(m_axes, 0, BASE), axis_wavelengths(v_axes, 0, BASE)
    assert m_t[0].item() == pytest.approx(2 * math.pi)
    assert m_t.max().item() == pytest.approx(2 * math.pi * BASE ** (30 / 128))
    assert m_t.max().item() == pytest.approx(160.114, abs=1e-3)
    assert v_t.min().item() == pytest.approx(2 * math.pi * BASE ** (96 / 128))
    assert v_t.min().item() == pytest.approx(198691.8, abs=0.1)
    assert v_t.max().item() == pytest.approx(5.0633e6, rel=1e-4)
    # a monotone stretch of cos(θ_n t) is half a wavelength: ≤ 80.06 ids for M-RoPE's time, ≥ 99 345 for VideoRoPE
    assert (m_t / 2).max().item() < 80.06 and (v_t / 2).min().item() > 99345
    # the transformers-style chunked layout really puts M-RoPE's time on the shortest wavelengths
    all_wl = wavelengths(128, BASE)
    assert torch.equal(m_t, all_wl[:16]) and torch.equal(v_t, all_wl[48:])


def test_mrope_time_oscillates_videorope_time_is_monotone():
    # V-NIAH-D puts a distractor every 2π·1000000^(32/128) ≈ 198.7 frames (200 in the experiments): that is
    # the wavelength of pair 16, just past the longest M-RoPE temporal wavelength (pair 15, ≈ 160.1).
    period = 2 * math.pi * 1000000 ** (32 / 128)
    assert period == pytest.approx(198.69, abs=0.01)
    assert wavelengths(128, BASE)[16].item() == pytest.approx(period)
    theta = inv_freq(128, BASE)
    m_t, v_t = theta[:16], theta[48:]
    # Over 200 temporal ids every M-RoPE temporal pair turns more than a full circle; VideoRoPE's turn < 0.01 rad.
    assert (200 * m_t).min().item() > 2 * math.pi and (200 * v_t).max().item() < 0.01
    assert (200 * m_t).min().item() == pytest.approx(7.85, abs=0.005)  # the slowest M-RoPE temporal pair
    # Temporal part of the score for identical content (q = k, unit pairs): s(Δ) = Σ_n cos(θ_n Δ).
    delta = torch.arange(0, 1001, dtype=F64)[:, None]
    s_m, s_v = (delta * m_t).cos().sum(-1), (delta * v_t).cos().sum(-1)
    # M-RoPE: not monotone — a frame 133 ids away scores higher on the temporal pairs than one 10 away
    assert s_m[133].item() == pytest.approx(4.887, abs=1e-3) and s_m[10].item() == pytest.approx(1.772, abs=1e-3)
    assert s_m[133] > s_m[10] and not bool((s_m[1:] <= s_m[:-1]).all())
    # VideoRoPE: strictly decreasing over 0..1000, and hardly moving (16 at Δ = 0, still > 15.9999 at Δ = 200)
    assert bool((s_v[1:] < s_v[:-1]).all()) and s_v[200].item() > 15.9999


def test_diagonal_layout_centres_frames():
    # Official rule, odd grid (3 × 5 tokens per frame), δ = 2, video starting at T_s = 4: every frame's centre
    # token is (t, t, t) and the spatial ids are symmetric around t.
    ids = video_position_ids(4, 3, 3, 5, delta=2.0, rule="official").view(3, 3, 3, 5)  # (row, frame, h, w)
    for k in range(3):
        t = 4 + 2 * k
        assert torch.all(ids[0, k] == t)
        assert ids[:, k, 1, 2].tolist() == [t, t, t]  # the centre patch lies on the diagonal
        off_h, off_w = ids[1, k, :, 0] - t, ids[2, k, 0, :] - t
        assert off_h.tolist() == [-1, 0, 1] and off_w.tolist() == [-2, -1, 0, 1, 2]
        assert torch.equal(off_w.sort().values, (-off_w).sort().values)
    # Paper's Eq. (7) offsets w − W/2 (here an even 4 × 6 grid): mean offset −1/2; in every case within 1/2 of t
    for rule, (h, w) in (("paper", (4, 6)), ("paper", (3, 5)), ("official", (4, 6)), ("official", (3, 5))):
        ids = video_position_ids(10, 2, h, w, delta=2.0, rule=rule)
        mean_off = (ids[1:] - ids[0]).mean(dim=1)
        assert mean_off.abs().max().item() <= 0.5
        if rule == "paper":
            assert mean_off.tolist() == [-0.5, -0.5]
        else:  # official: 0 for odd sides, +1/2 for even sides
            assert mean_off.tolist() == [0.0 if h % 2 else 0.5, 0.0 if w % 2 else 0.5]
    # The same patch in adjacent frames moves by (δ, δ, δ) — consecutive text tokens' (1, 1, 1) scaled by δ —
    # while M-RoPE moves only the temporal id: (1, 0, 0).
    for delta in (1.0, 2.0):
        v = video_position_ids(0, 2, 4, 6, delta=delta).view(3, 2, 24)
        assert torch.all(v[:, 1] - v[:, 0] == torch.tensor([[delta]] * 3, dtype=F64))
    m = mrope_vision_ids(0, 2, 4, 6).view(3, 2, 24)
    assert (m[:, 1] - m[:, 0]).unique(dim=1).flatten().tolist() == [1, 0, 0]


def test_ats_scales_temporal_distance_by_delta():
    # With ATS the ids of the same patch in frames k and k' differ by δ·(k' − k) in all three rows: the temporal
    # distance between frames scales by δ, while text tokens keep steps of 1.
    segs = [Text(3), Vision((5, 4, 6)), Text(3)]  # 5 frames of 2 × 3 LLM tokens
    base_ids, _ = videorope_position_ids(segs, delta=1.0)
    for delta in (0.5, 2.0, 3.0):
        ids, _ = videorope_position_ids(segs, delta=delta)
        frames = ids[:, 3:33].view(3, 5, 6)
        base_frames = base_ids[:, 3:33].view(3, 5, 6)
        d = frames[:, :, None] - frames[:, None]  # (3, k, k', 6)
        torch.testing.assert_close(d, delta * (base_frames[:, :, None] - base_frames[:, None]))
        assert (ids[:, 1:3] - ids[:, :2]).unique().tolist() == [1.0]  # text before
        assert (ids[:, -2:] - ids[:, -3:-1]).unique().tolist() == [1.0]  # text after


def test_text_after_video_continues_from_temporal_index():
    # <2 text> <video: 3 frames of 4 × 8 LLM tokens> <3 text>, δ = 2. Frames sit at t = 2, 4, 6.
    segs = [Text(2), Vision((3, 8, 16)), Text(3)]
    paper, _ = videorope_position_ids(segs, delta=2.0, rule="paper")
    official, _ = videorope_position_ids(segs, delta=2.0, rule="official")
    assert paper[0, 2:98].unique().tolist() == [2, 4, 6]
    # paper, Eq. (7): text after gets τ + (δ − 1)·T_v with τ = T_s + T_v + i = 5 + i  ->  8, 9, 10
    assert paper[:, -3:].tolist() == [[8, 9, 10]] * 3
    # official code: largest temporal id + 1  ->  7, 8, 9
    assert official[:, -3:].tolist() == [[7, 8, 9]] * 3
    # neither is "largest id + 1": the last frame's column ids reach 6 + (7 − 4) = 9 > 8
    assert paper[:, 2:98].max().item() == 9 and paper[0, 98].item() < paper[:, 2:98].max().item() + 1
    # with the official integer offsets (7 − ⌊7/2⌋ = 4) the last frame's column ids reach 10; its text starts at 7
    assert official[:, 2:98].max().item() == 10 and official[0, 98].item() < official[:, 2:98].max().item() + 1
    # M-RoPE (Qwen2-VL rule) continues after the largest of all ids: 2 + max(3, 4, 8) = 10
    mids, _ = mrope_position_ids(segs)
    assert mids[:, -3:].tolist() == [[10, 11, 12]] * 3
    # Spatial symmetry measured on temporal ids (Eq. (5)): text -> first frame is 1; last frame -> text is δ in
    # Eq. (7) and 1 in the official code.
    assert paper[0, 2] - paper[0, 1] == 1 and paper[0, 98] - paper[0, 97] == 2
    assert official[0, 98] - official[0, 97] == 1
    # with δ = 1 the two rules continue at the same id
    p1, _ = videorope_position_ids(segs, delta=1.0, rule="paper")
    o1, _ = videorope_position_ids(segs, delta=1.0, rule="official")
    assert p1[:, -3:].tolist() == o1[:, -3:].tolist() == [[5, 6, 7]] * 3


def test_matches_official_rule_on_small_case():
    # Worked by hand from the official get_t_scale_rope_index (videorope-transformer/modeling_videorope.py):
    # 2 text tokens, a video of 3 temporal steps on a 6 × 8 patch grid (3 × 4 after the 2 × 2 merge), 2 text
    # tokens, scale_factor δ = 2. t = 2 + 2k; h = t + i − ⌊(3−1)/2⌋; w = t + j − ⌊(4−1)/2⌋; next text at max t + 1.
    segs = [Text(2), Vision((3, 6, 8)), Text(2)]
    ids, rope_delta = videorope_position_ids(segs, delta=2.0, rule="official")
    frame0_t = [2] * 12
    frame0_h = [1] * 4 + [2] * 4 + [3] * 4
    frame0_w = [1, 2, 3, 4] * 3
    expected = [
        [0, 1] + sum(([v + 2 * k for v in frame0_t] for k in range(3)), []) + [7, 8],
        [0, 1] + sum(([v + 2 * k for v in frame0_h] for k in range(3)), []) + [7, 8],
        [0, 1] + sum(([v + 2 * k for v in frame0_w] for k in range(3)), []) + [7, 8],
    ]
    assert ids.tolist() == expected
    assert rope_delta == 9 - 40  # the code's mrope_position_deltas: max temporal id + 1 − sequence length


def test_score_depends_only_on_3d_offset():
    # RoPE on (t, h, w) ids: R(p)ᵀR(p') = R(p' − p) pair by pair, so q·k depends only on the 3-D id difference.
    g = torch.Generator().manual_seed(7)
    q, k = torch.randn(64, generator=g, dtype=F64), torch.randn(64, generator=g, dtype=F64)
    section = (8, 12, 12)

    def score(p_q, p_k):
        ids = torch.tensor([p_q, p_k], dtype=F64).T  # (3, 2)
        r = apply_videorope(torch.stack([q, k])[None, None], ids, base=1e4, section=section)[0, 0]
        return float(r[0] @ r[1])

    ref = score((4, 3, 5), (8, 9, 6))  # offset (Δt, Δh, Δw) = (4, 6, 1)
    assert score((104, 60.5, -7), (108, 66.5, -6)) == pytest.approx(ref, abs=1e-9)  # any common shift
    assert score((0, 0, 0), (4, 6, 1)) == pytest.approx(ref, abs=1e-9)  # only the key rotated, by the offset
    assert score((4, 3, 5), (8, 4, 11)) != pytest.approx(ref, abs=1e-6)  # (4, 1, 6): h and w offsets swapped
    assert score((4, 3, 5), (7, 9, 6)) != pytest.approx(ref, abs=1e-6)  # one step less in time


def test_text_only_is_1d_rope():
    # Text tokens have t = h = w, so every pair sees the same id whatever its axis: VideoRoPE = 1-D RoPE on text.
    ids, rope_delta = videorope_position_ids([Text(37)])
    assert torch.equal(ids, torch.arange(37, dtype=F64).expand(3, -1)) and rope_delta == 0
    x = torch.randn(2, 4, 37, 128, generator=torch.Generator().manual_seed(0), dtype=F64)
    torch.testing.assert_close(apply_videorope(x, ids, base=BASE),
                               rope(x, torch.arange(37), base=BASE, layout="half"), rtol=0, atol=1e-5)
