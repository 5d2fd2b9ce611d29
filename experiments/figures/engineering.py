"""Figures for chapter 7 (engineering), computed with peprep's code (the code the claims tests check).

Writes two PNGs into content/figures/:

- engineering-masks.png: which keys each query may see — torch's is_causal (top-left) and the KV-cache
  mask (bottom-right, `attention.causal_mask`) for 3 queries over 8 keys, and a packed row of documents
  [3, 2, 4] with its restarting position ids (`position_ids.packed_causal_mask`)
  (tests/claims/test_engineering_sdpa.py::test_is_causal_is_top_left_aligned,
  ::test_lower_right_causal_bias_is_the_kv_cache_mask;
  tests/claims/test_engineering_positions.py::test_packed_row_equals_separate_documents).
- engineering-memory.png: bytes each method must hold against the sequence length for H = 32 heads,
  C = 4096, D = 128 in bf16: sinusoidal table T·C, RoPE cos+sin 2·T·D, a materialised ALiBi/T5 bias H·T²
  (tests/claims/test_engineering_modules.py::test_memory_per_method).

Usage: .venv/bin/python experiments/figures/engineering.py   (about a second; deterministic)
"""

from __future__ import annotations

from pathlib import Path

import torch

from peprep.encodings.alibi import alibi_bias
from peprep.encodings.attention import causal_mask
from peprep.encodings.position_ids import packed_causal_mask, packed_position_ids
from peprep.encodings.rope import angles, cos_sin, inv_freq
from peprep.encodings.sinusoidal import sinusoidal_table
from peprep.figure_style import pyplot

plt = pyplot(font_size=10)

OUT = Path(__file__).resolve().parents[2] / "content" / "figures"


def save(fig, name: str) -> None:
    """PNG at dpi 110, reduced to a 256-colour palette so that every figure stays well under 150 KB."""
    from PIL import Image

    fig.tight_layout()
    fig.savefig(OUT / name, dpi=110)
    plt.close(fig)
    with Image.open(OUT / name) as image:
        image.convert("RGB").quantize(colors=256).save(OUT / name, optimize=True)


def draw_mask(ax, mask: torch.Tensor, title: str, row_labels: list[str], col_labels: list[str]) -> None:
    ax.imshow(mask.int().numpy(), cmap="Blues", vmin=0, vmax=1.3)
    ax.set_xticks(range(len(col_labels)), col_labels, fontsize=8)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    ax.set_xlabel("键（key）")
    ax.set_title(title, fontsize=10)
    for i in range(mask.shape[0] + 1):
        ax.axhline(i - 0.5, color="white", lw=0.8)
    for j in range(mask.shape[1] + 1):
        ax.axvline(j - 0.5, color="white", lw=0.8)


def masks_figure() -> None:
    t_q, t_k = 3, 8
    top_left = torch.ones(t_q, t_k, dtype=torch.bool).tril()  # what is_causal=True builds
    bottom_right = causal_mask(t_q, t_k)
    pos = packed_position_ids([3, 2, 4])
    packed = packed_causal_mask(pos)[0]
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 4.0), gridspec_kw={"width_ratios": [8, 8, 9]})
    keys = [str(j) for j in range(t_k)]
    queries = [f"q{i}（位置 {i + t_k - t_q}）" for i in range(t_q)]
    draw_mask(axes[0], top_left, "is_causal=True：左上角对齐\n（缓存 5 个词元 + 3 个新查询：错）", queries, keys)
    draw_mask(axes[1], bottom_right, "causal_lower_right / KV 缓存：右下角对齐\n查询 i 看键 j ≤ i + S − L", queries, keys)
    labels = [f"{p}" for p in pos[0].tolist()]
    draw_mask(axes[2], packed, "打包 [3, 2, 4]：块对角因果掩码\n刻度为每篇文档重新开始的位置编号", labels, labels)
    axes[0].set_ylabel("查询（query）")
    save(fig, "engineering-masks.png")


def memory_figure() -> None:
    heads, width, head_dim, bytes_per = 32, 4096, 128, 2  # a 7B-class model in bf16
    lengths = [2**k for k in range(9, 18)]
    # Sizes from the project's own tensors at a small length, scaled by their exact T-dependence.
    small = 256
    per_t_sin = sinusoidal_table(small, width).numel() / small
    cos, sin = cos_sin(angles(torch.arange(small), inv_freq(head_dim)), "half")
    per_t_rope = (cos.numel() + sin.numel()) / small
    per_t2_bias = alibi_bias(heads, small).numel() / small**2
    series = {
        "正弦表 T·C（输入处加一次）": [per_t_sin * t * bytes_per for t in lengths],
        "RoPE cos + sin 2·T·D（所有层共用）": [per_t_rope * t * bytes_per for t in lengths],
        "物化的 ALiBi / T5 偏置 H·T²（每条序列）": [per_t2_bias * t * t * bytes_per for t in lengths],
    }
    fig, ax = plt.subplots(figsize=(7.2, 4.3))
    for (label, values), style in zip(series.items(), ("o-", "s-", "^-")):
        ax.plot(lengths, [v / 2**20 for v in values], style, label=label)
    ax.axhline(4096, color="0.6", ls=":", lw=1)
    ax.text(lengths[0], 4096 * 1.3, "4 GiB（T = 8192 时的偏置）", fontsize=8, color="0.35")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("序列长度 T")
    ax.set_ylabel("显存（MiB，bf16）")
    ax.set_title("位置信息要占多少显存：H = 32，C = 4096，D = 128", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, which="major", alpha=0.3)
    save(fig, "engineering-memory.png")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    masks_figure()
    memory_figure()
