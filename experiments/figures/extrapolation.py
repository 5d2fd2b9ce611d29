"""Figures for chapter 5 (extrapolation), computed with peprep.encodings.rope_scaling and the lab's results.

Writes three PNGs into content/figures/:

- extrapolation-lab.png: the lab's perplexity against evaluation length and loss by position, re-plotted
  from the shipped results content/lab/extrapolation-results.json (regenerate those with
  `peprep lab run extrapolation --ship`, a few minutes on 2 cores; this script only plots them).
- extrapolation-frequency-scaling.png: θ'_i/θ_i for every pair under PI, NTK-aware, YaRN (official and
  paper ramps) for LLaMA 2 at s = 8, and Llama 3.1's scaling next to NTK-by-parts with α = 1, β = 4
  (tests/claims/test_extrapolation_scaling.py).
- extrapolation-position-tricks.png: the relative position each (query, key) pair sees under RoPE, ReRoPE,
  Leaky ReRoPE and Self-Extend (tests/claims/test_extrapolation_tricks.py).

Usage: .venv/bin/python experiments/figures/extrapolation.py   (a few seconds; deterministic)
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from peprep.encodings.dual_chunk import dca_pieces, dca_relative_positions
from peprep.encodings.rope import inv_freq
from peprep.encodings.rope_scaling import (
    Llama3Scaling,
    LinearScaling,
    NTKAwareScaling,
    YarnScaling,
    relative_positions,
    rerope_positions,
    rope_frequencies,
    self_extend_positions,
)
from peprep.figure_style import pyplot
from peprep.lab.plots import _save, plot_extrapolation

plt = pyplot(font_size=9)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "content" / "figures"
RESULTS = ROOT / "content" / "lab" / "extrapolation-results.json"


def lab_figure() -> None:
    plot_extrapolation(json.loads(RESULTS.read_text(encoding="utf-8")), OUT / "extrapolation-lab.png")


def frequency_scaling_figure() -> None:
    d, s = 128, 8.0
    theta = inv_freq(d)
    i = torch.arange(d // 2)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.2))
    variants = [
        ("PI（线性内插）", LinearScaling(s), "#6baed6", "-"),
        ("NTK 感知缩放", NTKAwareScaling(s), "#08519c", "-"),
        ("YaRN（官方代码的斜坡）", YarnScaling(s, 4096), "#17becf", "-"),
        ("YaRN（论文式 18 的斜坡）", YarnScaling(s, 4096, ramp="ratio"), "#d62728", "--"),
    ]
    for label, params, colour, line in variants:
        left.plot(i, rope_frequencies(params, d)[0] / theta, line, color=colour, lw=1.6, label=label)
    ic = d / 2 * math.log(4096 / (2 * math.pi)) / math.log(10000)
    left.axvline(ic, color="0.5", ls=":", lw=1)
    left.text(ic + 0.5, 0.55, "r = L/λ = 1\n（i ≈ 45.0）", fontsize=8, color="0.35")
    left.set_title("LLaMA 2（d = 128，底数 10000，L = 4096），s = 8")
    theta31 = inv_freq(d, 500000.0)
    right.plot(i, rope_frequencies(Llama3Scaling(), d)[0] / theta31, color="#2ca02c", lw=2.2, label="Llama 3.1（8, 1, 4, 8192）")
    by_parts = YarnScaling(8.0, 8192, base=500000.0, beta_fast=4.0, beta_slow=1.0, ramp="ratio")
    right.plot(i, rope_frequencies(by_parts, d)[0] / theta31, "--", color="black", lw=1.0, label="NTK-by-parts，α = 1，β = 4")
    right.set_title("Llama 3.1（底数 500000，L = 8192）= β 取 4 的 NTK-by-parts")
    for ax in (left, right):
        ax.set_yscale("log", base=2)
        ax.set_yticks([1, 1 / 2, 1 / 4, 1 / 8], ["1", "1/2", "1/4", "1/8"])
        ax.set_xlabel("频率对下标 i（0 = 最高频）")
        ax.set_ylabel("θ′_i / θ_i")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    _save(fig, OUT / "extrapolation-frequency-scaling.png")
    plt.close(fig)


def position_tricks_figure() -> None:
    t = 40
    panels = [
        ("RoPE：i − j", relative_positions(t).to(torch.float64)),
        ("ReRoPE：min(i − j, w)，w = 12", rerope_positions(t, 12)),
        ("Leaky ReRoPE：k = 4", rerope_positions(t, 12, leaky_factor=4.0)),
        ("Self-Extend：G = 4，w_n = 8", self_extend_positions(t, 4, 8).to(torch.float64)),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(12.0, 3.5), constrained_layout=True)
    causal = relative_positions(t) >= 0
    for k, (ax, (title, rel)) in enumerate(zip(axes, panels)):
        shown = torch.where(causal, rel, torch.tensor(float("nan"), dtype=torch.float64))
        image = ax.imshow(shown.numpy(), cmap="viridis", vmin=0, vmax=t - 1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("键 j")
        if k == 0:
            ax.set_ylabel("查询 i")
        ax.text(1, t - 3, f"最大 {float(rel[causal].max()):.1f}", color="white", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.85, label="模型看到的相对位置")
    fig.suptitle(f"长度 {t} 的因果注意力里，每一对 (i, j) 用哪个相对位置（只改位置，不改频率）", fontsize=9)
    _save_tight(fig, "extrapolation-position-tricks.png")


def dca_figure() -> None:
    """Dual Chunk Attention: which piece each causal pair falls in, and the relative position RoPE sees."""
    from matplotlib.colors import ListedColormap

    t, c, s = 40, 16, 10
    w = c - s  # the paper's choice of local window
    plain = relative_positions(t).to(torch.float64)
    dca = dca_relative_positions(t, s, w, c).to(torch.float64)
    pieces = dca_pieces(t, s).to(torch.float64)
    causal = plain >= 0
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.9), constrained_layout=True)
    ax = axes[0]
    ax.imshow(torch.where(causal, pieces, nan).numpy(), cmap=ListedColormap(["#4c72b0", "#dd8452", "#8c8c8c"]),
              vmin=-0.5, vmax=2.5)
    ax.set_title(f"三块：块内 / 相邻块 / 更早的块（s = {s}）", fontsize=9)
    for name, colour, y in (("块内（intra）", "#4c72b0", 0), ("相邻块（successive）", "#dd8452", 1),
                            ("更早的块（inter）", "#8c8c8c", 2)):
        ax.text(t - 1, 2 + 4 * y, name, color=colour, fontsize=8, ha="right")  # in the empty upper triangle
    for k, (title, rel) in enumerate((("RoPE：i − j", plain), (f"DCA：c = {c}，w = c − s = {w}", dca)), start=1):
        image = axes[k].imshow(torch.where(causal, rel, nan).numpy(), cmap="viridis", vmin=0, vmax=t - 1)
        axes[k].set_title(title, fontsize=9)
        axes[k].text(1, t - 3, f"最大 {float(rel[causal].max()):.0f}", color="white", fontsize=8)
    for ax in axes:
        ax.set_xlabel("键 j")
        for edge in range(s, t, s):  # chunk boundaries
            ax.axhline(edge - 0.5, color="white", lw=0.6)
            ax.axvline(edge - 0.5, color="white", lw=0.6)
    axes[0].set_ylabel("查询 i")
    fig.colorbar(image, ax=axes[1:], shrink=0.85, label="模型看到的相对位置")
    fig.suptitle(f"DCA 把长度 {t} 的每一对 (i, j) 映射到预训练见过的相对位置 0 … {c - 1}；块内仍是真实距离", fontsize=9)
    _save_tight(fig, "extrapolation-dca.png")


def _save_tight(fig, name: str) -> None:
    """PNG at dpi 110 with a tight bounding box, reduced to a 256-colour palette."""
    from PIL import Image

    fig.savefig(OUT / name, dpi=110, bbox_inches="tight")
    plt.close(fig)
    with Image.open(OUT / name) as image_file:
        image_file.convert("RGB").quantize(colors=256).save(OUT / name, optimize=True)


if __name__ == "__main__":
    lab_figure()
    frequency_scaling_figure()
    position_tricks_figure()
    dca_figure()
