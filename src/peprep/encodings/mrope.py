"""Multimodal RoPE (M-RoPE): three position ids per token — temporal, height, width — for text, images, video.

Wang et al. 2024, "Qwen2-VL" (arXiv 2409.12191), §2.1: the rotary embedding is split into a temporal, a
height and a width component.

    text:   all three ids equal the running position, so M-RoPE is exactly 1-D RoPE;
    image:  t id constant, (h, w) ids from the token's place on the merged patch grid;
    video:  t id increases per temporal grid step, (h, w) as for images;
    "position numbering for each modality is initialized by incrementing the maximum position ID of
    the preceding modality by one".

Position ids for a vision segment starting at s, on the LLM grid (t, h, w) = (T, H/m, W/m) after the
m×m spatial merge (m = 2 in Qwen2-VL; patches are 14×14 pixels, so one LLM token covers 28×28):

    id_t = s + ⌊k · interval⌋,  id_h = s + i,  id_w = s + j         k < t, i < h, j < w, row-major order
    next segment starts at max(all three ids) + 1 (for one image: s + max(h, w))

interval = 1 in Qwen2-VL; Qwen2.5-VL (arXiv 2502.13923) aligns the temporal id with absolute time:
interval = tokens_per_second · temporal_patch_size / fps (transformers `get_rope_index`,
second_per_grid_t = temporal_patch_size / fps; released configs use tokens_per_second = 2).

Frequencies. With head dim D there are D/2 rotary frequencies θ_i = base^(−2i/D); `mrope_section`
(Qwen2-VL-7B: [16, 24, 24], summing to 64 = 128/2) says how many go to t, h and w. Qwen2-VL assigns
them in chunks — i < 16 uses id_t, the next 24 id_h, the last 24 id_w — so time gets the highest
frequencies and width the lowest. Qwen3-VL in transformers (mrope_section [24, 20, 20]) interleaves:
i ≡ 1 (mod 3) uses id_h and i ≡ 2 (mod 3) id_w up to 3·section, the rest id_t. Both use the half layout
(cos = cat(freqs, freqs), rotate_half) like every Hugging Face RoPE.

transformers 5.x (the rewritten get_rope_index discussed in huggingface/transformers#45381; 5.25.0 checked)
advances the start after a vision segment by max(h, w) only, ignoring the temporal ids; for images that
equals "max + 1", for a video whose temporal ids outrun max(h, w) it does not. `mrope_position_ids(advance="spatial")` reproduces that behaviour.

Shapes: position ids (3, L) int64; angles (L, D/2); q, k (B, H, L, D).

Claims (each proved by the named test):
- text-only input gives exactly 1-D RoPE (tests/claims/test_vision_mrope.py::test_text_only_reduces_to_1d_rope)
- one image: constant t id, grid (h, w) ids, text after it resumes at start + max(h, w)
  (tests/claims/test_vision_mrope.py::test_image_ids_and_text_after_image)
- the decoding offset rope_delta = max id + 1 − L continues the ids of a generated token
  (tests/claims/test_vision_mrope.py::test_rope_delta_continues_generation)
- chunked sections give time the highest frequencies; interleaved sections spread every axis
  (tests/claims/test_vision_mrope.py::test_section_layouts)
- within an image the score depends only on the (Δh, Δw) offset
  (tests/claims/test_vision_mrope.py::test_image_score_depends_only_on_grid_offset)
- equals transformers Qwen2VLModel.get_rope_index (images; the video case shows the 5.x difference),
  Qwen2VLRotaryEmbedding and Qwen3VLTextRotaryEmbedding (tests/peers/test_vision_peers.py)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from peprep.encodings.rope import apply_rotary, cos_sin, inv_freq

QWEN2_VL_SECTION = (16, 24, 24)  # Qwen2-VL-7B (head_dim 128): t, h, w frequency counts
QWEN3_VL_SECTION = (24, 20, 20)  # transformers' Qwen3-VL default, interleaved
Advance = Literal["max+1", "spatial"]


@dataclass(frozen=True)
class Text:
    """A run of `length` text tokens."""

    length: int


@dataclass(frozen=True)
class Vision:
    """An image or video on the vision encoder's patch grid (T, H, W) before the spatial merge.

    `time_interval` spaces the temporal ids (1 in Qwen2-VL; tokens_per_second·temporal_patch_size/fps
    for a Qwen2.5-VL video). An image is a grid with T = 1.
    """

    grid_thw: tuple[int, int, int]
    time_interval: float = 1.0


def llm_grid(grid_thw: tuple[int, int, int], spatial_merge_size: int = 2) -> tuple[int, int, int]:
    """(T, H/m, W/m): the grid of tokens the language model sees after the m×m patch merge."""
    t, h, w = grid_thw
    if h % spatial_merge_size or w % spatial_merge_size:
        raise ValueError(f"patch grid {h}×{w} is not divisible by the merge size {spatial_merge_size}")
    return t, h // spatial_merge_size, w // spatial_merge_size


def qwen25_time_interval(tokens_per_second: float, temporal_patch_size: int, fps: float) -> float:
    """Temporal id step per grid step in Qwen2.5-VL: tokens_per_second × (temporal_patch_size / fps) seconds."""
    return tokens_per_second * temporal_patch_size / fps


def vision_position_ids(start: int, t: int, h: int, w: int, time_interval: float = 1.0) -> Tensor:
    """(3, t·h·w) ids of a vision segment on the LLM grid, row-major within each frame, frames in order."""
    tid = (torch.arange(t, dtype=torch.float64) * time_interval).floor().long() + start  # (t,)
    hid = torch.arange(h) + start
    wid = torch.arange(w) + start
    grid = torch.meshgrid(tid, hid, wid, indexing="ij")  # each (t, h, w)
    return torch.stack([g.reshape(-1) for g in grid])  # (3, t·h·w)


def mrope_position_ids(
    segments: list[Text | Vision], *, spatial_merge_size: int = 2, advance: Advance = "max+1"
) -> tuple[Tensor, int]:
    """(position ids (3, L), rope_delta) for a prompt made of text and vision segments.

    advance="max+1": the next segment starts at the largest id so far + 1 (the paper; transformers 4.x).
    advance="spatial": it starts at start + max(h, w) (transformers ≥ 5.3), which ignores temporal ids.
    rope_delta = max id + 1 − L: a token generated at sequence index L + s gets id L + s + rope_delta.
    """
    parts, start = [], 0
    for seg in segments:
        if isinstance(seg, Text):
            ids = (torch.arange(seg.length) + start).expand(3, -1)  # (3, n): t = h = w
            start += seg.length
        elif isinstance(seg, Vision):
            t, h, w = llm_grid(seg.grid_thw, spatial_merge_size)
            ids = vision_position_ids(start, t, h, w, seg.time_interval)
            start = int(ids.max()) + 1 if advance == "max+1" else start + max(h, w)
        else:
            raise TypeError(f"segments are Text or Vision, got {type(seg).__name__}")
        parts.append(ids)
    position_ids = torch.cat(parts, dim=1)  # (3, L)
    return position_ids, int(position_ids.max()) + 1 - position_ids.shape[1]


def section_axes(head_dim: int, section: tuple[int, ...] = QWEN2_VL_SECTION, *, interleaved: bool = False) -> Tensor:
    """(D/2,) int64: which id (0 = t, 1 = h, 2 = w) rotates frequency i."""
    n = head_dim // 2
    if sum(section) != n or len(section) != 3:
        raise ValueError(f"mrope_section {section} must have three entries summing to head_dim/2 = {n}")
    if not interleaved:
        return torch.cat([torch.full((s,), axis) for axis, s in enumerate(section)])
    axes = torch.zeros(n, dtype=torch.long)  # t everywhere, then h and w on their residues
    for axis, offset in ((1, 1), (2, 2)):
        axes[offset : 3 * section[axis] : 3] = axis
    return axes


def mrope_angles(
    position_ids: Tensor, head_dim: int, base: float = 10000.0, section: tuple[int, ...] = QWEN2_VL_SECTION,
    *, interleaved: bool = False,
) -> Tensor:
    """Angle of frequency i for token n: position_ids[axis(i), n] · θ_i, shape (L, D/2), float64."""
    theta = inv_freq(head_dim, base)  # (D/2,)
    axes = section_axes(head_dim, section, interleaved=interleaved)  # (D/2,)
    chosen = position_ids.to(torch.float64)[axes]  # (D/2, L): row i holds the ids frequency i uses
    return chosen.T * theta  # (L, D/2)


def apply_mrope(
    x: Tensor, position_ids: Tensor, base: float = 10000.0, section: tuple[int, ...] = QWEN2_VL_SECTION,
    *, interleaved: bool = False,
) -> Tensor:
    """Rotate q or k (B, H, L, D) with M-RoPE in the half layout (transformers' convention)."""
    angles = mrope_angles(position_ids, x.shape[-1], base, section, interleaved=interleaved)
    cos, sin = cos_sin(angles, "half")  # (L, D)
    return apply_rotary(x, cos, sin, layout="half")
