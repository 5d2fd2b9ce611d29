"""Figures for chapter 2 (absolute), all computed with peprep.encodings.sinusoidal (the tested code).

Writes into content/figures/:
- absolute-heatmap.png      PE(p) for p = 0…127, d = 128, in both layouts (interleaved = the paper,
                            halves = tensor2tensor); cited by absolute.sinusoidal-formula and absolute.layouts
                            (tests/claims/test_absolute.py::test_layouts_differ_by_permutation);
- absolute-wavelengths.png  λ_i = 2π/ω_i against the pair index i for d = 512 ("paper", "t2t", base 500000),
                            and the fraction of one period that positions 0…511 cover
                            (test_wavelength_range_paper, test_wavelength_range_t2t);
- absolute-dot-product.png  PE(p)·PE(p+k) against k: symmetric, decaying with ripples, negative far out;
                            and PE(p)ᵀ W PE(p+k) for a random W, which depends on p
                            (test_dot_product_is_not_monotone,
                             tests/claims/test_absolute_attention.py::test_projected_position_score_depends_on_absolute_position).

Usage: .venv/bin/python experiments/figures/absolute.py   (about 2 s on a CPU; deterministic)
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from peprep.encodings.sinusoidal import (
    sinusoidal_dot,
    sinusoidal_encoding,
    sinusoidal_table,
    sinusoidal_wavelengths,
)
from peprep.figure_style import pyplot

plt = pyplot(font_size=9)

FIGURES = Path(__file__).resolve().parents[2] / "content" / "figures"
DPI = 110
F64 = torch.float64


def heatmap() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.8), sharey=True, layout="constrained")
    for ax, layout, title in zip(axes, ("interleaved", "halves"),
                                 ("interleaved（论文）\n[sin, cos, sin, cos, …]",
                                  "halves（tensor2tensor 等）\n[sin, …, sin, cos, …, cos]")):
        table = sinusoidal_table(128, 128, layout=layout, dtype=F64)  # (positions, dims)
        im = ax.imshow(table.numpy(), aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel("维度索引 j（d = 128）")
    axes[0].set_ylabel("位置 p")
    fig.colorbar(im, ax=axes, shrink=0.85, label="PE(p, j)")
    fig.savefig(FIGURES / "absolute-heatmap.png", dpi=DPI)
    plt.close(fig)


def wavelengths() -> None:
    d, train_len = 512, 512
    i = torch.arange(d // 2)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.6, 3.5))
    for spacing, base, style, label in (("paper", 10000.0, "-", r"论文：$\omega_i = 10000^{-2i/d}$"),
                                        ("t2t", 10000.0, "--", r"t2t：$\omega_i = 10000^{-i/(d/2-1)}$"),
                                        ("paper", 500000.0, ":", r"论文间距，base $= 500000$")):
        lam = sinusoidal_wavelengths(d, base, spacing=spacing)
        ax1.plot(i, lam, style, label=label)
        ax2.plot(i, train_len / lam, style, label=label)
    for y, text in ((2 * math.pi, r"$2\pi$"), (2 * math.pi * 10000, r"$10000\cdot 2\pi$")):
        ax1.axhline(y, color="gray", lw=0.6)
        ax1.text(200, y * 1.4, text, color="gray")
    ax1.set_yscale("log")
    ax1.set_xlabel(r"频率对索引 $i$（$d = 512$）")
    ax1.set_ylabel(r"波长 $\lambda_i = 2\pi/\omega_i$（位置数）")
    ax1.set_title(r"$i$ 越大，频率越低、波长越长（论文与 t2t 几乎重合）")
    ax1.legend(fontsize=7, loc="upper left")
    ax2.axhline(1.0, color="gray", lw=0.6)
    ax2.set_yscale("log")
    ax2.set_xlabel(r"频率对索引 $i$")
    ax2.set_ylabel(r"位置 $0\ldots511$ 覆盖的周期数 $L/\lambda_i$")
    ax2.set_title("灰线以下：训练长度内走不完一个周期")
    fig.tight_layout()
    fig.savefig(FIGURES / "absolute-wavelengths.png", dpi=DPI)
    plt.close(fig)


def dot_product() -> None:
    d = 512
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(10.5, 3.2))
    k = torch.arange(-200, 201, dtype=F64)
    ax1.plot(k, sinusoidal_dot(k, d))
    ax1.set_title(r"$\mathrm{PE}(p)\cdot\mathrm{PE}(p+k)$：对 $\pm k$ 对称")
    ax1.set_xlabel(r"偏移 $k$（$d = 512$）")
    ax1.set_ylabel(r"点积（$k=0$ 时为 $d/2 = 256$）")
    k = torch.arange(0, 4001, dtype=F64)
    f = sinusoidal_dot(k, d)
    ax2.plot(k, f, lw=0.8)
    ax2.axhline(0, color="gray", lw=0.6)
    ax2.set_xscale("symlog", linthresh=10)
    ax2.set_xlim(0, 4000)
    ax2.set_title("平均在衰减，但不单调，远处可为负")
    ax2.set_xlabel(r"偏移 $k$（symlog 轴）")
    inset = ax2.inset_axes([0.12, 0.1, 0.42, 0.38])
    inset.plot(k[30:80], f[30:80], lw=0.8)
    inset.set_title(r"$k = 30\ldots80$：第一次回升在 43→44", fontsize=7)
    inset.tick_params(labelsize=6)
    g = torch.Generator().manual_seed(0)
    w = torch.randn(d, d, generator=g, dtype=F64) / math.sqrt(d)
    k = torch.arange(0, 201, dtype=F64)
    for p in (0.0, 100.0, 1000.0):
        pe_p = sinusoidal_encoding(torch.tensor(p, dtype=F64), d)
        ax3.plot(k, sinusoidal_encoding(p + k, d) @ (w.T @ pe_p), lw=0.8, label=f"p = {int(p)}")
    ax3.set_title(r"随机 $W$：$\mathrm{PE}(p)^\top W\,\mathrm{PE}(p+k)$ 依赖 $p$")
    ax3.set_xlabel(r"偏移 $k$")
    ax3.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES / "absolute-dot-product.png", dpi=DPI)
    plt.close(fig)


def main() -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    heatmap()
    wavelengths()
    dot_product()


if __name__ == "__main__":
    main()
