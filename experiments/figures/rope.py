"""Figures for chapter 4 (RoPE), all computed with peprep.encodings.rope (the code the claims tests check).

Writes four PNGs into content/figures/:

- rope-rotation.png: one 2-D pair of a query rotated at positions 0..7, for a fast pair (θ_0 = 1 rad/token)
  and a slow one; the angle between f(q, m) and f(k, n) depends only on m - n
  (tests/claims/test_rope.py::test_rotation_matrices_compose, ::test_score_depends_only_on_offset).
- rope-decay-bound.png: RoFormer's relative upper bound (1/(d/2)) Σ_j |S_j| against the relative distance
  for several bases, d = 128 (tests/claims/test_rope_decay.py::test_decay_bound_curve, ::test_larger_base_decays_slower).
- rope-wavelength.png: wavelength 2π·base^(2i/d) of every pair, base 10000 vs 500000, d = 128, against
  common context lengths (tests/claims/test_rope.py::test_wavelengths_base_10000_vs_500000).
- rope-score-distance.png: q^T R k against the relative distance for random and for similar q, k:
  one sample each, the Monte Carlo mean and the expectation Σ 2cos(Δθ_i)
  (tests/claims/test_rope_decay.py::test_random_keys_score_zero_on_average, ::test_similar_key_expected_score).

Usage: .venv/bin/python experiments/figures/rope.py   (a few seconds on a CPU; deterministic)
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from peprep.encodings.rope import decay_bound, inv_freq, similar_key_score, wavelengths
from peprep.figure_style import pyplot

plt = pyplot(font_size=10)

OUT = Path(__file__).resolve().parents[2] / "content" / "figures"
D = 128
F64 = torch.float64


def save(fig, name: str) -> None:
    """PNG at dpi 110, reduced to a 256-colour palette so that every figure stays well under 150 KB."""
    from PIL import Image

    fig.tight_layout()
    fig.savefig(OUT / name, dpi=110)
    plt.close(fig)
    with Image.open(OUT / name) as image:
        image.convert("RGB").quantize(colors=256).save(OUT / name, optimize=True)


def rotation_figure() -> None:
    """A pair (x, y) = (1, 0.35) rotated by m·θ for m = 0..7, two frequencies of d = 64."""
    theta = inv_freq(64)
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.2))
    for ax, i in zip(axes, (0, 8)):
        t = float(theta[i])
        circle = torch.linspace(0, 2 * math.pi, 200)
        radius = math.hypot(1.0, 0.35)
        ax.plot(radius * circle.cos(), radius * circle.sin(), color="0.85", lw=1)
        for m in range(8):
            a = m * t + math.atan2(0.35, 1.0)
            x, y = radius * math.cos(a), radius * math.sin(a)
            ax.annotate("", xy=(x, y), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": plt.cm.viridis(m / 8), "lw": 1.6})
            ax.text(1.13 * x, 1.13 * y, f"m={m}", ha="center", va="center", fontsize=8)
        ax.set_title(f"第 {i} 对：$\\theta_{{{i}}}$ = {t:.3g} rad/token（波长 {2 * math.pi / t:.1f}）")
        ax.set_aspect("equal")
        ax.set_xlim(-1.45, 1.45)
        ax.set_ylim(-1.45, 1.45)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(r"RoPE：同一对通道 $(q_{2i}, q_{2i+1})$ 在位置 $m$ 被旋转 $m\theta_i$；$f(q,m)$ 与 $f(k,n)$ 的夹角只差 $(m-n)\theta_i$")
    save(fig, "rope-rotation.png")


def decay_figure() -> None:
    dist = torch.arange(0, 4097, dtype=F64)
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.9))
    for base, color in ((500.0, "tab:red"), (10000.0, "tab:blue"), (500000.0, "tab:green"), (1e6, "tab:purple")):
        curve = decay_bound(dist, D, base)
        axes[0].plot(dist[:257], curve[:257], color=color, lw=1.2, label=f"base = {base:g}")
        sparse = torch.unique(torch.logspace(0, math.log10(4096), 300, dtype=F64).round()).long()
        axes[1].plot(dist[sparse], curve[sparse], color=color, lw=0.9, label=f"base = {base:g}")
    axes[0].set_title("0–256（苏剑林博客作图的范围，d=128）")
    axes[1].set_xscale("log")
    axes[1].set_title("1–4096，对数横轴：上界并不单调")
    for ax in axes:
        ax.set_xlabel("相对距离 m − n")
        ax.set_ylabel(r"相对上界 $\frac{1}{d/2}\sum_j |S_j|$")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("RoPE 远程衰减的上界（d = 128）：是 |分数| 的上界，不是分数本身")
    save(fig, "rope-decay-bound.png")


def wavelength_figure() -> None:
    i = torch.arange(D // 2)
    fig, ax = plt.subplots(figsize=(7.6, 4.2))
    for base, color in ((10000.0, "tab:blue"), (500000.0, "tab:green")):
        ax.plot(i, wavelengths(D, base), "o", ms=3, color=color, label=f"base = {base:g}")
    for length, name in ((2048, "2K"), (4096, "4K"), (8192, "8K"), (131072, "128K")):
        ax.axhline(length, color="0.5", ls="--", lw=0.8)
        ax.text(D // 2 - 1, length * 1.12, f"L = {name}", ha="right", fontsize=8, color="0.3")
    ax.set_yscale("log")
    ax.set_xlabel("维度对编号 i（d = 128，共 64 对）")
    ax.set_ylabel(r"波长 $\lambda_i = 2\pi\cdot\mathrm{base}^{2i/d}$（token）")
    ax.set_title("每对通道转一整圈需要的 token 数：线以上的对在训练窗口内转不满一圈")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    save(fig, "rope-wavelength.png")


def score_figure() -> None:
    gen = torch.Generator().manual_seed(0)
    n = 4000
    q = torch.randn(n, D, generator=gen, dtype=F64)
    k_rand = torch.randn(n, D, generator=gen, dtype=F64)
    k_sim = q + 0.5 * torch.randn(n, D, generator=gen, dtype=F64)
    dist = torch.unique(torch.logspace(0, math.log10(8192), 400, dtype=F64).round())
    dist = torch.cat((torch.zeros(1, dtype=F64), dist))
    phase = dist[:, None] * inv_freq(D)  # (T, D/2)

    def scores(k: torch.Tensor) -> torch.Tensor:  # (n, T): Re Σ_i q_i conj(k_i) e^{iΔθ_i}
        h = torch.view_as_complex(q.reshape(n, -1, 2).contiguous()) * torch.view_as_complex(k.reshape(n, -1, 2).contiguous()).conj()
        return (h[:, None, :] * torch.polar(torch.ones_like(phase), phase)[None]).sum(-1).real

    s_rand, s_sim = scores(k_rand), scores(k_sim)
    x = dist.clamp(min=0.7)
    fig, ax = plt.subplots(figsize=(8.4, 4.4))
    ax.plot(x, s_sim[0], color="tab:orange", lw=0.6, alpha=0.6, label="相似 q、k（k = q + 噪声）：一个样本")
    ax.plot(x, s_rand[0], color="tab:gray", lw=0.6, alpha=0.6, label="随机独立 q、k：一个样本")
    ax.plot(x, s_sim.mean(0), color="tab:red", lw=1.6, label=f"相似 q、k：{n} 个样本的均值")
    ax.plot(x, similar_key_score(dist, D), "k--", lw=1.0, label=r"期望 $\sum_i 2\cos(\Delta\theta_i)$")
    ax.plot(x, s_rand.mean(0), color="tab:blue", lw=1.6, label=f"随机 q、k：{n} 个样本的均值（≈ 0）")
    ax.axvline(1707, color="0.4", ls=":", lw=1)
    ax.text(1707 * 0.93, -40, "期望首次为负：Δ = 1707", fontsize=8, color="0.3", ha="right")
    ax.set_xscale("log")
    ax.set_xlabel("相对距离 m − n（0 画在最左）")
    ax.set_ylabel(r"$q^\top R_{n-m}\, k$")
    ax.set_title("分数随相对距离：只有“相似”的 q、k 在平均意义上衰减（d = 128，base 10000）")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper right", framealpha=0.95)
    save(fig, "rope-score-distance.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rotation_figure()
    decay_figure()
    wavelength_figure()
    score_figure()


if __name__ == "__main__":
    main()
