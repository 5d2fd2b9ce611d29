"""VideoRoPE: a 3-D RoPE for video LLMs — low-frequency time, diagonal layout, adjustable temporal spacing.

Wei et al. 2025, "VideoRoPE: What Makes for Good Video Rotary Position Embedding?" (arXiv 2502.05173,
ICML 2025, PMLR 267), §3 (analysis of M-RoPE), §4 (the design, Eq. (7)); the official code
github.com/Wiselnn570/VideoRoPE, videorope-transformer/modeling_videorope.py (`get_t_scale_rope_index`
for the position ids, `apply_m_modify_multimodal_rotary_pos_emb` for the frequency assignment; the
vLLM copy in videorope-vllm/rotary_embedding.py does the same). This module is written from the paper's
formulas and checked against the code's rule on small cases; no code is copied.

It changes two things in M-RoPE (`peprep.encodings.mrope`): which rotary pairs each id rotates, and the ids.

Rotary pairs (LTA, Low-frequency Temporal Allocation). Head dim d, pairs n = 0 .. d/2 − 1 rotate at
θ_n = β^(−2n/d), falling with n. With d = 128 and the M-RoPE budget (16, 24, 24) pairs for (t, h, w):

    M-RoPE (Qwen2-VL, chunked):  n <  16 → t   16 ≤ n < 40 → h   40 ≤ n < 64 → w     (time: the fastest)
    VideoRoPE:                   n <  48 → h, w, h, w, … interleaved    48 ≤ n < 64 → t  (time: the slowest)

The official code puts the row id (h) on the even pairs and the column id (w) on the odd ones; the paper
writes the interleaving as x, y, x, y. Both keep 24 pairs per spatial axis and 16 for time, "the same
allocation number ... as M-RoPE for a fair comparison".

Position ids (DL, Diagonal Layout, + ATS, Adjustable Temporal Spacing), Eq. (7), 0-based. A prompt of T_s
text tokens, a video of T_v frames of W × H tokens (column w < W, row h < H), then T_e text tokens; τ counts
text tokens and frames (one step per frame), δ is the temporal spacing:

    text before   0 ≤ τ < T_s:               (t, x, y) = (τ, τ, τ)
    frame k = τ − T_s, token (h, w):         t = T_s + δ·k,   x = t + w − W/2,   y = t + h − H/2
    text after    T_s + T_v ≤ τ:             (t, x, y) = τ + (δ − 1)·T_v in all three

So every frame is centred on the diagonal (t, t, t); the same (h, w) in the next frame moves by (δ, δ, δ)
(M-RoPE: (1, 0, 0)); and the first text token after the video gets T_s + δ·T_v, δ after the last frame's
temporal id — not "largest id + 1" as in M-RoPE.

The official code differs in two details, both selectable here with rule="official":
    centre offsets   w − ⌊(W − 1)/2⌋, h − ⌊(H − 1)/2⌋   (integers; exactly symmetric for odd W, H)
    text after       (largest temporal id so far) + 1 = T_s + δ·(T_v − 1) + 1
With δ = 1 both rules continue the text at the same id. The released setting is δ = 2 (scale_factor is
hard-coded to 2.0 for which_rope = "videorope" in modeling_videorope.py; the vLLM path takes it from the
caller and the eval scripts pass 2.0; the paper's δ ablation peaks at 2).

In Qwen2-VL terms a "frame" is one temporal step of the LLM grid (two sampled frames merged by the
depth-2 3-D convolution) and W × H is the grid after the 2 × 2 merge, exactly what `mrope.llm_grid` returns.

Ids are rows (t, h, w) like `mrope` — row 1 is the paper's y (vertical), row 2 its x (horizontal) — and
float64, because W/2 and δ need not be integers (the official code also keeps them as floats).

Shapes: position ids (3, L) float64; angles (L, d/2); q, k (B, H, L, d), half layout like transformers.

Claims (each proved by the named test):
- M-RoPE's time gets the 16 highest frequencies, VideoRoPE's the 16 lowest; wavelengths at β = 10^6
  (tests/claims/test_vision_video.py::test_time_gets_highest_frequencies_in_mrope_lowest_in_videorope)
- the V-NIAH-D distractor period 2π·10^6^(32/128) ≈ 198.7 is the wavelength of pair 16; the temporal score of
  identical content oscillates in M-RoPE, falls monotonically in VideoRoPE
  (tests/claims/test_vision_video.py::test_mrope_time_oscillates_videorope_time_is_monotone)
- each frame is centred on the diagonal, symmetric for odd grids under the official rule, and the same
  patch moves by (δ, δ, δ) per frame (tests/claims/test_vision_video.py::test_diagonal_layout_centres_frames)
- with ATS the distance between frames scales by δ; text keeps unit steps
  (tests/claims/test_vision_video.py::test_ats_scales_temporal_distance_by_delta)
- text after the video starts at T_s + δ·T_v (paper) or last temporal id + 1 (code), not at max id + 1
  (tests/claims/test_vision_video.py::test_text_after_video_continues_from_temporal_index)
- ids equal the official rule on a worked case
  (tests/claims/test_vision_video.py::test_matches_official_rule_on_small_case)
- the score depends only on the 3-D id difference; text alone is 1-D RoPE
  (tests/claims/test_vision_video.py::test_score_depends_only_on_3d_offset,
  tests/claims/test_vision_video.py::test_text_only_is_1d_rope)
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from peprep.encodings.mrope import QWEN2_VL_SECTION, Text, Vision, llm_grid
from peprep.encodings.rope import apply_rotary, cos_sin, inv_freq

Rule = Literal["paper", "official"]
RULES: tuple[Rule, ...] = ("paper", "official")
DEFAULT_DELTA = 2.0  # the official code's scale_factor for which_rope="videorope"
T, H, W = 0, 1, 2  # rows of the position ids, as in peprep.encodings.mrope


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")


# --- which pair rotates with which id (LTA) ---------------------------------------------------------


def videorope_axes(head_dim: int, section: tuple[int, ...] = QWEN2_VL_SECTION) -> Tensor:
    """(d/2,) int64: the id (0 = t, 1 = h, 2 = w) that rotates pair n.

    section = (pairs for t, pairs for h, pairs for w), the M-RoPE budget. The 2·section[1] spatial pairs come
    first (fast), alternating h, w, h, w, …; the section[0] temporal pairs come last (slow).
    """
    n = head_dim // 2
    n_t, n_h, n_w = section if len(section) == 3 else (None, None, None)
    if n_t is None or sum(section) != n:
        raise ValueError(f"section {section} must have three entries summing to head_dim/2 = {n}")
    if n_h != n_w:
        raise ValueError(f"interleaving h and w needs equal budgets, got h = {n_h}, w = {n_w}")
    spatial = torch.tensor([H, W]).repeat(n_h)  # h, w, h, w, … (2·n_h pairs)
    return torch.cat([spatial, torch.full((n_t,), T)])


def axis_angles(position_ids: Tensor, axes: Tensor, base: float = 10000.0) -> Tensor:
    """Angle of pair n for token l: position_ids[axes[n], l] · θ_n, shape (L, d/2), float64.

    Works for any assignment: `videorope_axes` here, `mrope.section_axes` for M-RoPE.
    """
    theta = inv_freq(2 * axes.numel(), base)  # (d/2,)
    chosen = position_ids.to(torch.float64)[axes]  # (d/2, L): row n holds the ids pair n uses
    return chosen.T * theta  # (L, d/2)


def axis_wavelengths(axes: Tensor, axis: int, base: float = 10000.0) -> Tensor:
    """Wavelengths 2π/θ_n (in id units) of the pairs that `axis` rotates, in pair order."""
    theta = inv_freq(2 * axes.numel(), base)
    return 2 * math.pi / theta[axes == axis]


def videorope_angles(
    position_ids: Tensor, head_dim: int, base: float = 10000.0, section: tuple[int, ...] = QWEN2_VL_SECTION
) -> Tensor:
    """(L, d/2) angles of VideoRoPE: spatial ids on the fast pairs, the temporal id on the slow ones."""
    return axis_angles(position_ids, videorope_axes(head_dim, section), base)


def apply_videorope(
    x: Tensor, position_ids: Tensor, base: float = 10000.0, section: tuple[int, ...] = QWEN2_VL_SECTION
) -> Tensor:
    """Rotate q or k (B, H, L, d) with VideoRoPE in the half layout (transformers' convention)."""
    angles = videorope_angles(position_ids, x.shape[-1], base, section)
    cos, sin = cos_sin(angles, "half")  # (L, d)
    return apply_rotary(x, cos, sin, layout="half")


# --- position ids (DL + ATS) ---------------------------------------------------------------------------


def spatial_offsets(size: int, rule: Rule = "paper") -> Tensor:
    """(size,) float64 offsets of the columns (or rows) from the frame centre.

    paper: j − size/2 (Eq. (7)); official: j − ⌊(size − 1)/2⌋ (integers, symmetric for odd size).
    """
    _check_rule(rule)
    j = torch.arange(size, dtype=torch.float64)
    return j - (size / 2 if rule == "paper" else (size - 1) // 2)


def video_position_ids(
    start: float, t: int, h: int, w: int, *, delta: float = DEFAULT_DELTA, rule: Rule = "paper"
) -> Tensor:
    """(3, t·h·w) float64 ids of a video on the LLM grid (t frames of h × w), frames in order, row-major.

    Frame k: temporal id start + δ·k; its token (i, j) adds the centre offsets of row i and column j
    to that temporal id in the h and w rows.
    """
    tid = start + delta * torch.arange(t, dtype=torch.float64)  # (t,)
    tt, hh, ww = torch.meshgrid(tid, spatial_offsets(h, rule), spatial_offsets(w, rule), indexing="ij")
    return torch.stack([tt.reshape(-1), (tt + hh).reshape(-1), (tt + ww).reshape(-1)])  # (3, t·h·w)


def next_start(video_ids: Tensor, start: float, frames: int, *, delta: float, rule: Rule) -> float:
    """Where the segment after a video starting at `start` begins.

    paper: start + δ·frames (Eq. (7): τ + (δ − 1)·T_v at τ = T_s + T_v); official: largest temporal id + 1.
    """
    _check_rule(rule)
    return start + delta * frames if rule == "paper" else float(video_ids[T].max()) + 1


def videorope_position_ids(
    segments: list[Text | Vision],
    *,
    delta: float = DEFAULT_DELTA,
    rule: Rule = "paper",
    spatial_merge_size: int = 2,
) -> tuple[Tensor, float]:
    """(position ids (3, L) float64, rope_delta) for text and video segments, VideoRoPE's layout.

    Vision segments use `mrope.Vision` (the patch grid before the merge); their time spacing is δ, so a
    Qwen2.5-style `time_interval` is refused. An image is a video with one frame.
    rope_delta = (start of the next segment) − L: a token generated at sequence index L + s gets
    L + s + rope_delta in all three rows, as in M-RoPE.
    """
    _check_rule(rule)
    parts, start = [], 0.0
    for seg in segments:
        if isinstance(seg, Text):
            ids = (start + torch.arange(seg.length, dtype=torch.float64)).expand(3, -1)  # t = h = w
            start += seg.length
        elif isinstance(seg, Vision):
            if seg.time_interval != 1.0:
                raise ValueError("VideoRoPE spaces frames by delta; leave Vision.time_interval at 1")
            t, h, w = llm_grid(seg.grid_thw, spatial_merge_size)
            ids = video_position_ids(start, t, h, w, delta=delta, rule=rule)
            start = next_start(ids, start, t, delta=delta, rule=rule)
        else:
            raise TypeError(f"segments are Text or Vision, got {type(seg).__name__}")
        parts.append(ids)
    position_ids = torch.cat(parts, dim=1)  # (3, L)
    return position_ids, start - position_ids.shape[1]
