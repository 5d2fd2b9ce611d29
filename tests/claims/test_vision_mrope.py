"""Claims of chapter 6 (vision) about Qwen2-VL's multimodal RoPE (M-RoPE)."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.mrope import (
    QWEN2_VL_SECTION,
    QWEN3_VL_SECTION,
    Text,
    Vision,
    apply_mrope,
    mrope_angles,
    mrope_position_ids,
    qwen25_time_interval,
    section_axes,
)
from peprep.encodings.rope import rope

F64 = torch.float64


def test_text_only_reduces_to_1d_rope():
    # Text: t = h = w = position, so every frequency sees the same id whatever its section: M-RoPE rotates
    # q exactly like 1-D RoPE (half layout, base 1e6, head dim 128, sections 16/24/24 or interleaved).
    ids, delta = mrope_position_ids([Text(37)])
    assert torch.equal(ids, torch.arange(37).expand(3, -1)) and delta == 0
    x = torch.randn(2, 4, 37, 128, generator=torch.Generator().manual_seed(0), dtype=F64)
    for interleaved, section in ((False, QWEN2_VL_SECTION), (True, QWEN3_VL_SECTION)):
        ours = apply_mrope(x, ids, base=1e6, section=section, interleaved=interleaved)
        torch.testing.assert_close(ours, rope(x, torch.arange(37), base=1e6, layout="half"), rtol=0, atol=1e-5)
    torch.testing.assert_close(mrope_angles(ids, 128, 1e6),
                               torch.arange(37, dtype=F64)[:, None] * 1e6 ** (-torch.arange(0, 128, 2, dtype=F64) / 128))


def test_image_ids_and_text_after_image():
    # "<5 text> <image: 448×672 px -> 32×48 patches of 14 -> 16×24 LLM tokens after 2×2 merge> <4 text>".
    # Image tokens: t = 5, h = 5 + row, w = 5 + col (row-major). Text after the image starts at
    # max id + 1 = 5 + max(16, 24) = 29, not at 5 + 384 (the number of image tokens).
    ids, delta = mrope_position_ids([Text(5), Vision((1, 32, 48)), Text(4)])
    n_img = 16 * 24
    assert ids.shape == (3, 5 + n_img + 4)
    img = ids[:, 5 : 5 + n_img]
    assert torch.all(img[0] == 5)
    assert torch.equal(img[1].view(16, 24), (5 + torch.arange(16))[:, None].expand(16, 24))
    assert torch.equal(img[2].view(16, 24), (5 + torch.arange(24))[None, :].expand(16, 24))
    assert torch.equal(ids[:, -4:], torch.arange(29, 33).expand(3, -1))
    assert int(ids.max()) == 32
    # 1-D flattening would have used positions up to 5 + 384 + 4 − 1 = 392 for the same prompt
    assert ids.shape[1] - 1 == 392 and delta == 33 - 393


def test_rope_delta_continues_generation():
    # During decoding only text is generated: the token at sequence index L + s gets id L + s + rope_delta
    # in all three components, i.e. it continues right after the last prompt id.
    ids, delta = mrope_position_ids([Text(3), Vision((1, 4, 6)), Text(2)])
    assert ids[:, :3].tolist() == [[0, 1, 2]] * 3
    assert ids[:, 3:9].tolist() == [[3] * 6, [3, 3, 3, 4, 4, 4], [3, 4, 5, 3, 4, 5]]
    assert ids[:, 9:].tolist() == [[6, 7]] * 3
    length = ids.shape[1]
    assert delta == 8 - length == -3
    first_generated = length + 0 + delta
    assert first_generated == int(ids.max()) + 1 == 8
    # a video: 4 temporal grid steps on a 2×2 LLM grid; Qwen2-VL steps t by 1, the paper rule makes the
    # next text start after the last temporal id
    vid, _ = mrope_position_ids([Text(2), Vision((4, 4, 4)), Text(1)])
    assert vid[0, 2:18].tolist() == [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4
    assert vid[:, -1].tolist() == [6, 6, 6]


def test_section_layouts():
    # Qwen2-VL (chunked, [16, 24, 24], D = 128): frequencies 0..15 (the fastest, θ_i = base^(−2i/D)) use t,
    # 16..39 use h, 40..63 (the slowest) use w. Qwen3-VL in transformers (interleaved, [24, 20, 20]):
    # t h w t h w … for the first 60, then t: every axis gets fast and slow frequencies.
    chunked = section_axes(128, QWEN2_VL_SECTION)
    assert chunked.tolist() == [0] * 16 + [1] * 24 + [2] * 24
    inter = section_axes(128, QWEN3_VL_SECTION, interleaved=True)
    assert inter[:6].tolist() == [0, 1, 2, 0, 1, 2] and inter[60:].tolist() == [0, 0, 0, 0]
    assert [(inter == a).sum().item() for a in range(3)] == [24, 20, 20]
    assert int((chunked == 2).nonzero().min()) == 40 and int((inter == 2).nonzero().min()) == 2
    with pytest.raises(ValueError, match="sum"):
        section_axes(128, (16, 24, 23))


def test_image_score_depends_only_on_grid_offset():
    # Two image tokens at (h, w) and (h + Δh, w + Δw): the M-RoPE score q·k is the same wherever the pair sits
    # in the image (and wherever the image sits in the prompt), because all three ids shift together.
    g = torch.Generator().manual_seed(3)
    q, k = torch.randn(64, generator=g, dtype=F64), torch.randn(64, generator=g, dtype=F64)
    section = (8, 12, 12)

    def score(tq, hq, wq, tk, hk, wk):
        ids = torch.tensor([[tq, tk], [hq, hk], [wq, wk]])
        x = torch.stack([q, k])[None, None]  # (1, 1, 2, 64)
        r = apply_mrope(x, ids, base=1e4, section=section)[0, 0]
        return float(r[0] @ r[1])

    ref = score(5, 5, 5, 5, 7, 8)  # offset (Δh, Δw) = (2, 3) inside an image starting at 5
    assert score(5, 9, 11, 5, 11, 14) == pytest.approx(ref, abs=1e-9)
    assert score(40, 42, 41, 40, 44, 44) == pytest.approx(ref, abs=1e-9)  # same image later in the prompt
    assert score(5, 5, 5, 5, 8, 7) != pytest.approx(ref, abs=1e-6)  # transposed offset differs


def test_qwen25_absolute_time_spacing():
    # Qwen2.5-VL: temporal id step = tokens_per_second × temporal_patch_size / fps. With the released
    # tokens_per_second = 2 and 2-frame tubes, 2 fps -> 2 ids per grid step (one id per 0.5 s); 1 fps -> 4.
    assert qwen25_time_interval(2, 2, 2.0) == 2.0
    assert qwen25_time_interval(2, 2, 1.0) == 4.0
    ids, _ = mrope_position_ids([Vision((3, 4, 4), time_interval=qwen25_time_interval(2, 2, 1.0))])
    assert ids[0].unique().tolist() == [0, 4, 8]  # 0 s, 2 s, 4 s at one id per 0.5 s
