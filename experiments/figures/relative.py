"""Figures for chapter 3 (relative): relative position encodings and attention biases.

Every panel is computed with the code the claims tests check (peprep.encodings.*); nothing is drawn
by hand. Writes into content/figures/:

- relative-t5-buckets.png     T5 bucket of the relative position, encoder and decoder, with 37 marked
- relative-alibi-heads.png    ALiBi bias matrices of 4 of 8 heads (causal)
- relative-bias-heatmaps.png  T5 bucket map, ALiBi, KERPLE-log and Sandwich biases side by side
- relative-bias-curves.png    bias vs distance for ALiBi, KERPLE (power, log), Sandwich; FIRE's input
- relative-xl-terms.png       the four Transformer-XL logit terms (a)–(d) with a memory
- relative-skew.png           the skew / rel-shift: relative columns before, absolute columns after

Usage: .venv/bin/python experiments/figures/relative.py   (a few seconds on a CPU; deterministic)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from peprep.encodings.alibi import alibi_bias, alibi_slopes
from peprep.encodings.fire import fire_normalised_distance
from peprep.encodings.kerple import kerple_log_bias, kerple_power_bias
from peprep.encodings.sandwich import sandwich_bias
from peprep.encodings.shaw import skew
from peprep.encodings.t5_bias import relative_position_bucket
from peprep.encodings.transformer_xl import sinusoid_relative, xl_terms_explicit
from peprep.figure_style import pyplot

plt = pyplot(font_size=10)

OUT = Path(__file__).resolve().parents[2] / "content" / "figures"
DPI = 110


def save(fig, name: str) -> None:
    fig.savefig(OUT / f"relative-{name}.png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)


def masked(x: torch.Tensor) -> np.ndarray:
    """Blank out the future (j > i) for causal heatmaps."""
    t = x.shape[-1]
    return np.ma.masked_where(np.triu(np.ones((t, t)), 1).astype(bool), x.numpy())


def t5_buckets() -> None:
    r = torch.arange(-160, 161)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.step(r, relative_position_bucket(r), where="mid", label="编码器 bidirectional（按符号各 16 桶）")
    ax.step(r, relative_position_bucket(r, bidirectional=False), where="mid", label="解码器 causal（过去 32 桶，未来→0）")
    for x in (-128, 128):
        ax.axvline(x, color="gray", ls=":", lw=1)
    ax.annotate("r = −37 → 12\nr = +37 → 28\n解码器 −37 → 22", xy=(-37, 12), xytext=(-150, 22),
                arrowprops=dict(arrowstyle="->", color="k"), fontsize=9)
    ax.plot([-37, 37, -37], [12, 28, 22], "ko", ms=4)
    ax.set_xlabel("相对位置 r = j − i（key − query）")
    ax.set_ylabel("bucket")
    ax.set_title("T5 分桶：|r| < 8（解码器 16）逐个精确，之后对数间隔，≥ 91（解码器 113）合并到最后一桶")
    ax.legend(fontsize=8, loc="lower right")
    save(fig, "t5-buckets")


def alibi_heads() -> None:
    t, heads = 24, (1, 3, 5, 8)
    bias = alibi_bias(8, t)
    slopes = alibi_slopes(8)
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.3))
    for ax, h in zip(axes, heads):
        im = ax.imshow(masked(bias[h - 1]), cmap="viridis", vmin=-6, vmax=0)
        ax.set_title(f"head {h}: m = 2^−{h} = {slopes[h - 1]:.4g}", fontsize=9)
        ax.set_xlabel("key j")
    axes[0].set_ylabel("query i")
    fig.colorbar(im, ax=axes, shrink=0.8, label="−m(i − j)（色标截在 −6）")
    fig.suptitle("ALiBi（8 heads）：每个 head 一条固定斜率的线性距离惩罚，陡的看近处，缓的看远处", fontsize=10)
    save(fig, "alibi-heads")


def bias_heatmaps() -> None:
    t = 32
    one = torch.ones(1, dtype=torch.float64)
    panels = [
        ("T5 bucket id（编码器，双向）", relative_position_bucket(torch.arange(t)[None, :] - torch.arange(t)[:, None]).float(), False),
        ("ALiBi head 3（m = 1/8）", alibi_bias(8, t)[2], True),
        ("KERPLE-log（$r_1$ = 1, $r_2$ = 0.5）", kerple_log_bias(one, 0.5 * one, t)[0], True),
        ("Sandwich head 1（d̄ = 128, H = 8）", sandwich_bias(8, t)[0], True),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    for ax, (title, x, causal) in zip(axes, panels):
        im = ax.imshow(masked(x) if causal else x.numpy(), cmap="viridis")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("key j")
        fig.colorbar(im, ax=ax, shrink=0.75)
    axes[0].set_ylabel("query i")
    fig.suptitle("注意力偏置 (T, T)：都只取决于 i − j（沿对角线为常数）", fontsize=10)
    save(fig, "bias-heatmaps")


def bias_curves() -> None:
    n = torch.arange(0, 512, dtype=torch.float64)
    t = n.numel()
    one = torch.ones(1, dtype=torch.float64)
    last = lambda b: b[0, -1].flip(0)  # noqa: E731  — the last query's row, by distance 0 … t−1
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
    ax.plot(n, last(alibi_bias(8, t)[4:5]), label="ALiBi m = 1/32（线性）")
    ax.plot(n, last(kerple_power_bias(one, 0.5 * one, t)), label="KERPLE-power $r_1$=1, $r_2$=0.5")
    ax.plot(n, last(kerple_log_bias(2 * one, 0.5 * one, t)), label="KERPLE-log $r_1$=2, $r_2$=0.5")
    ax.plot(n, last(sandwich_bias(8, t)[:1]), label="Sandwich head 1（d̄=128）")
    ax.set_xlabel("距离 n = i − j")
    ax.set_ylabel("加到 logit 上的偏置")
    ax.set_title("偏置随距离：线性 vs 次线性（log 型）衰减", fontsize=10)
    ax.legend(fontsize=8)
    for i_q in (100, 500, 2000, 8000):
        x = fire_normalised_distance(1, i_q + 1, threshold=512.0)[0].flip(0)
        ax2.plot(torch.arange(i_q + 1), x, label=f"query 位置 i = {i_q}")
    ax2.set_xscale("symlog", linthresh=10)
    ax2.set_xlabel("距离 n = i − j")
    ax2.set_ylabel("ψ(n) / ψ(max(L, i))")
    ax2.set_title("FIRE 的 MLP 输入：除以 ψ(max(L, i)) 后永远落在 [0, 1]（L = 512）", fontsize=10)
    ax2.legend(fontsize=8)
    save(fig, "bias-curves")


def xl_terms() -> None:
    g = torch.Generator().manual_seed(0)
    h, t, mem, d = 1, 16, 8, 16
    q = torch.randn(1, h, t, d, generator=g, dtype=torch.float64)
    k = torch.randn(1, h, t + mem, d, generator=g, dtype=torch.float64)
    w_kr = torch.randn(h, 2 * d, d, generator=g, dtype=torch.float64) / math.sqrt(2 * d)
    r = torch.einsum("tc,hcd->htd", sinusoid_relative(t + mem, 2 * d), w_kr) * 3
    u, v = (torch.randn(h, d, generator=g, dtype=torch.float64) for _ in range(2))
    terms = xl_terms_explicit(q, k, r, u, v)
    names = {"a": r"(a) $q_i\cdot k_j$ 内容-内容", "b": r"(b) $q_i\cdot r_{i-j}$ 内容-位置",
             "c": r"(c) $u\cdot k_j$ 全局内容偏置", "d": r"(d) $v\cdot r_{i-j}$ 全局位置偏置"}
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    valid = torch.ones(t, t + mem, dtype=torch.bool).tril(mem)
    for ax, key in zip(axes, "abcd"):
        x = np.ma.masked_where(~valid.numpy(), terms[key][0, 0].numpy())
        im = ax.imshow(x, cmap="coolwarm", aspect="auto")
        ax.axvline(mem - 0.5, color="k", lw=1)
        ax.set_title(names[key], fontsize=9)
        ax.set_xlabel("key j（竖线左边是 memory）")
        fig.colorbar(im, ax=ax, shrink=0.75)
    axes[0].set_ylabel("query i")
    fig.suptitle("Transformer-XL 的四项：(c) 每列一个常数，(d) 沿对角线为常数（只取决于 i − j）", fontsize=10, y=1.04)
    save(fig, "xl-terms")


def skew_diagram() -> None:
    L = 5
    rel = torch.tensor([[float(c - (L - 1)) for c in range(L)] for _ in range(L)])  # column = distance
    rows = torch.arange(L, dtype=torch.float64)[:, None] * 10 + rel  # 10·i + distance, to track entries
    out = skew(rows)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, x, title in ((axes[0], rows, "$QE_r^T$：列 = 距离 j − i（−4 … 0）"),
                         (axes[1], out, "skew 之后：列 = key j（下三角有效）")):
        ax.imshow(np.zeros((L, L)), cmap="Greys", vmin=0, vmax=1)
        for i in range(L):
            for j in range(L):
                val = x[i, j].item()
                ok = ax is axes[0] or j <= i
                label = f"i={i}\nd={int(round(val - 10 * i))}" if ok else "垃圾"
                ax.text(j, i, label, ha="center", va="center", fontsize=8, color="k" if ok else "red")
        ax.set_xticks(range(L))
        ax.set_yticks(range(L))
        ax.set_title(title, fontsize=9)
    fig.suptitle("Music Transformer 的 skew（= Transformer-XL 的 rel_shift）：左补一列 0 → reshape (L+1, L) → 去掉第一行", fontsize=10)
    save(fig, "skew")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (t5_buckets, alibi_heads, bias_heatmaps, bias_curves, xl_terms, skew_diagram):
        make()


if __name__ == "__main__":
    main()
