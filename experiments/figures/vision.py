"""Figures for chapter 6 (vision), all computed with the tested code in peprep.encodings.

Writes into content/figures/:
- vision-sincos-similarity.png  ViT Figure 7 (centre) redrawn for the fixed 2-D sin-cos table: a 7×7 grid of
                                tiles (ViT-L/32 at 224 has 7×7 patches, D = 1024); tile (r, c) shows the cosine
                                similarity between patch (r, c) and every patch. Cited by vision.sincos-relative
                                (tests/claims/test_vision_sincos.py::test_norm_is_constant_and_similarity_falls_with_distance).
- vision-rope2d-score.png       score between a query at the centre of a 31×31 patch grid and the same vector as key
                                at every patch (q = k = all ones, D = 64): axial base 100 (RoPE-ViT), axial base 10000,
                                and RoPE-Mixed at its random initialisation. Cited by vision.rope-2d-axial and
                                vision.rope-2d-mixed (tests/claims/test_vision_rope2d.py).
- vision-mrope-ids.png          M-RoPE (t, h, w) ids of "5 text tokens, one 224×336 image (16×24 patches of 14 px,
                                8×12 LLM tokens after the 2×2 merge), 4 text tokens", against the 1-D ids of the same
                                prompt. Cited by vision.mrope-position-ids (tests/claims/test_vision_mrope.py).

Usage: .venv/bin/python experiments/figures/vision.py   (about 3 s on a CPU; deterministic)
"""

from __future__ import annotations

from pathlib import Path

import torch

from peprep.encodings.mrope import Text, Vision, mrope_position_ids, section_axes
from peprep.encodings.rope import inv_freq
from peprep.encodings.rope_2d import axial_angles, init_mixed_frequencies, mixed_angles, score_map
from peprep.encodings.sincos_2d import cosine_similarity_map, grid_coordinates, sincos_2d_grid
from peprep.encodings.video_rope import videorope_axes
from peprep.figure_style import pyplot

plt = pyplot(font_size=9)

FIGURES = Path(__file__).resolve().parents[2] / "content" / "figures"
DPI = 110
F64 = torch.float64


def sincos_similarity() -> None:
    n, d = 7, 1024
    table = sincos_2d_grid(n, n, d, dtype=F64)
    maps = [[cosine_similarity_map(table, n, n, query=r * n + c) for c in range(n)] for r in range(n)]
    low = min(float(m.min()) for row in maps for m in row)  # most of the 256 frequencies are slow: all > 0.7
    fig, axes = plt.subplots(n, n, figsize=(6.4, 6.0), layout="constrained")
    for r in range(n):
        for c in range(n):
            im = axes[r, c].imshow(maps[r][c].numpy(), cmap="viridis", vmin=low, vmax=1.0, interpolation="nearest")
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == n - 1:
                axes[r, c].set_xlabel(str(c + 1))
            if c == 0:
                axes[r, c].set_ylabel(str(r + 1))
    fig.supxlabel("查询 patch 的列")
    fig.supylabel("查询 patch 的行")
    fig.suptitle("固定二维 sin-cos（D = 1024，7×7 网格）：每格是该 patch 与所有 patch 的余弦相似度")
    fig.colorbar(im, ax=axes, shrink=0.6, label="余弦相似度")
    fig.savefig(FIGURES / "vision-sincos-similarity.png", dpi=DPI)
    plt.close(fig)


def rope2d_scores() -> None:
    n, d = 31, 64
    rows, cols = grid_coordinates(n, n)
    centre = (n // 2) * n + n // 2
    ones = torch.ones(d, dtype=F64)
    fx, fy = init_mixed_frequencies(d, 1, generator=torch.Generator().manual_seed(0))
    panels = [
        ("axial, base = 100（RoPE-ViT）", axial_angles(rows, cols, d, 100.0)),
        ("axial, base = 10000", axial_angles(rows, cols, d, 10000.0)),
        ("mixed（RoPE-Mixed 随机初始化）", mixed_angles(rows, cols, fx[0], fy[0])),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.4), layout="constrained")
    for ax, (title, angles) in zip(axes, panels):
        m = score_map(ones, ones, angles, centre, n, n) / d  # normalised: 1 at the query itself
        im = ax.imshow(m.numpy(), cmap="RdBu_r", vmin=-1, vmax=1, extent=(-n // 2 - 0.5, n // 2 + 0.5, n // 2 + 0.5, -n // 2 - 0.5))
        ax.set_title(title)
        ax.set_xlabel("Δx（列偏移）")
    axes[0].set_ylabel("Δy（行偏移）")
    fig.colorbar(im, ax=axes, shrink=0.85, label="score / D（q = k = 全 1）")
    fig.suptitle("二维 RoPE：中心 patch 的查询对各 patch 的分数只依赖 (Δy, Δx)；axial 是行项 + 列项（十字形），mixed 可以沿斜向")
    fig.savefig(FIGURES / "vision-rope2d-score.png", dpi=DPI)
    plt.close(fig)


def mrope_ids() -> None:
    segments = [Text(5), Vision((1, 16, 24)), Text(4)]
    ids, delta = mrope_position_ids(segments)
    length = ids.shape[1]
    index = torch.arange(length)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.0, 3.8), gridspec_kw={"width_ratios": [2.2, 1]}, layout="constrained")
    ax1.axvspan(4.5, 4.5 + 96, color="0.92", label="图像 token（8×12）")
    ax1.plot(index, index, color="0.5", ls=":", label="一维 RoPE：位置 = 序号")
    for row, (name, style) in enumerate((("t", "-"), ("h", "--"), ("w", "-."))):
        ax1.step(index, ids[row], where="mid", ls=style, label=f"M-RoPE {name}")
    ax1.set_xlabel("token 序号")
    ax1.set_ylabel("位置编号")
    ax1.set_title(f"文本 5 + 图像 96 + 文本 4：M-RoPE 最大编号 {int(ids.max())}，一维为 {length - 1}（rope_delta = {delta}）")
    ax1.legend(fontsize=7, loc="upper left")
    h, w = 8, 12
    img = ids[:, 5 : 5 + h * w]
    ax2.imshow(torch.zeros(h, w), cmap="Greys", vmin=0, vmax=1)
    for i in range(h):
        for j in range(w):
            t = i * w + j
            ax2.text(j, i, f"{int(img[1, t])},{int(img[2, t])}", ha="center", va="center", fontsize=5.5)
    ax2.set_xticks(range(w))
    ax2.set_yticks(range(h))
    ax2.set_xlabel("列（w 编号 = 5 + 列）")
    ax2.set_ylabel("行（h 编号 = 5 + 行）")
    ax2.set_title("图像 token 的 (h, w) 编号；t 恒为 5")
    fig.savefig(FIGURES / "vision-mrope-ids.png", dpi=DPI)
    plt.close(fig)


def videorope_frequencies() -> None:
    """Which pair each id rotates (M-RoPE vs VideoRoPE, head dim 128, base 1e6), and the temporal score."""
    base, head_dim = 1_000_000.0, 128
    theta = inv_freq(head_dim, base)
    wavelength = (2 * torch.pi / theta).to(F64)
    schemes = (("M-RoPE（Qwen2-VL）", section_axes(head_dim)), ("VideoRoPE（LTA）", videorope_axes(head_dim)))
    colours = {0: ("t（时间）", "#c44e52"), 1: ("h（行）", "#4c72b0"), 2: ("w（列）", "#55a868")}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 3.4), gridspec_kw={"width_ratios": [1.35, 1]},
                                   layout="constrained")
    pair = torch.arange(head_dim // 2)
    for row, (name, axes) in enumerate(schemes):
        for axis, (label, colour) in colours.items():
            chosen = axes == axis
            ax1.scatter(pair[chosen], torch.full((int(chosen.sum()),), float(row)), c=colour, s=14, marker="s",
                        label=label if row == 0 else None)
    ax1.set_yticks([0, 1], [name for name, _ in schemes])
    ax1.set_ylim(-0.5, 1.5)
    ax1.invert_yaxis()
    top = ax1.secondary_xaxis("top", functions=(lambda n: n, lambda n: n))
    top.set_xticks([0, 16, 32, 48, 63],
                   [f"{float(wavelength[n]):.3g}" if n else "2π" for n in (0, 16, 32, 48, 63)])
    top.set_xlabel("该对的波长（位置编号数）")
    ax1.set_xlabel(r"频率对 n（$\theta_n=(10^6)^{-2n/128}$，n 越大转得越慢）")
    ax1.legend(fontsize=7, loc="center right")
    ax1.set_title("每一对频率由哪个编号旋转（时间 16 对，h、w 各 24 对）")
    delta = torch.arange(0, 401, dtype=F64)
    for (name, axes), style in zip(schemes, ("-", "--")):
        score = torch.cos(delta[:, None] * theta[axes == 0]).sum(-1)  # identical content, unit pairs
        ax2.plot(delta, score, style, label=name)
    ax2.axvline(2 * torch.pi * base ** (32 / 128), color="0.6", ls=":", lw=1)
    ax2.text(206, 10.5, "198.7：V-NIAH-D\n干扰项的间隔", fontsize=7, color="0.4")
    ax2.set_xlabel("两帧的时间编号差 Δt")
    ax2.set_ylabel("时间那 16 对的分数 Σ cos(θ_n Δt)")
    ax2.set_title("同一内容、只看时间维：M-RoPE 振荡，VideoRoPE 单调")
    ax2.legend(fontsize=7)
    fig.savefig(FIGURES / "vision-videorope-frequencies.png", dpi=DPI)
    plt.close(fig)


if __name__ == "__main__":
    FIGURES.mkdir(parents=True, exist_ok=True)
    sincos_similarity()
    rope2d_scores()
    mrope_ids()
    videorope_frequencies()
