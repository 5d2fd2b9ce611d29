"""Figure for chapter 1 (why): where position comes from when nobody encodes it.

Writes content/figures/why-implicit-position-signals.png, cited by the KPs why.nope-counting,
why.variance-signal and why.cnn-padding. Three panels, all computed with the code the tests check:

1. causal uniform attention with a BOS token: the BOS share of the average is exactly 1/(t+1)
   (tests/claims/test_why.py::test_causal_uniform_attention_with_bos_recovers_absolute_position);
2. without BOS: the variance of the causal average shrinks like sigma^2/(t+1), Monte Carlo vs theory
   (test_causal_uniform_average_variance_shrinks_like_one_over_t);
3. a constant input through 4 stacked convolutions: zero padding makes the border visible,
   circular padding does not (test_zero_padding_reveals_absolute_position_near_the_border).

Usage: .venv/bin/python experiments/figures/why.py   (a few seconds on a CPU; deterministic)
"""

from __future__ import annotations

from pathlib import Path

import torch

from peprep.encodings.attention import multi_head_self_attention
from peprep.figure_style import pyplot

plt = pyplot(font_size=10)

OUT = Path(__file__).resolve().parents[2] / "content" / "figures" / "why-implicit-position-signals.png"
T = 32


def bos_share(causal: bool) -> torch.Tensor:
    """Output of uniform attention (W_Q = W_K = 0) whose value reads a BOS indicator, per position."""
    c = 4
    x = torch.randn(1, T, c, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x[:, :, 0] = 0.0
    x[:, 0, 0] = 1.0  # token 0 is BOS
    zero, eye = torch.zeros(c, c, dtype=torch.float64), torch.eye(c, dtype=torch.float64)
    w_v = torch.zeros(c, c, dtype=torch.float64)
    w_v[0, 0] = 1.0
    return multi_head_self_attention(x, zero, zero, w_v, eye, 1, causal=causal)[0, :, 0]


def causal_average_variance(n_seq: int = 20_000) -> torch.Tensor:
    """Monte Carlo variance of the uniform causal average of i.i.d. N(0, 1) inputs, per position."""
    c = 4
    x = torch.randn(n_seq, T, c, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    zero, eye = torch.zeros(c, c, dtype=torch.float64), torch.eye(c, dtype=torch.float64)
    y = multi_head_self_attention(x, zero, zero, eye, eye, 1, causal=True)
    return y.var(dim=0).mean(dim=-1)


def constant_through_convs(padding_mode: str, n_layers: int = 4, length: int = T) -> torch.Tensor:
    """Channel 0 of a constant input after `n_layers` kernel-3 convolutions with the given padding."""
    torch.manual_seed(2)  # the same weights for both padding modes
    net = torch.nn.Sequential(
        *[torch.nn.Conv1d(4, 4, 3, padding=1, padding_mode=padding_mode, bias=False).double() for _ in range(n_layers)]
    )
    with torch.no_grad():
        return net(torch.ones(1, 4, length, dtype=torch.float64))[0, 0]


def main() -> None:
    t = torch.arange(T)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))

    ax = axes[0]
    ax.plot(t, bos_share(causal=True), "o-", ms=3, label="因果掩码：$y_t=1/(t+1)$")
    ax.plot(t, bos_share(causal=False), "s--", ms=3, label="无掩码：处处 $1/T$")
    ax.set(title="① BOS 占比：数前驱得到绝对位置", xlabel="位置 $t$（从 0 开始）", ylabel="输出的 BOS 指示维")
    ax.legend(fontsize=8)

    ax = axes[1]
    ax.plot(t, causal_average_variance(), "o", ms=3, label="蒙特卡洛估计")
    ax.plot(t, 1.0 / (t + 1), "-", label=r"理论 $\sigma^2/(t+1)$")
    ax.set(title="② 无 BOS：均匀因果平均的方差收缩", xlabel="位置 $t$", ylabel="输出方差", yscale="log")
    ax.legend(fontsize=8)

    ax = axes[2]
    ax.plot(t, constant_through_convs("zeros"), "o-", ms=3, label="零填充")
    ax.plot(t, constant_through_convs("circular"), "s--", ms=3, label="循环填充")
    ax.axvspan(-0.5, 3.5, color="0.9")
    ax.axvspan(T - 4.5, T - 0.5, color="0.9")
    ax.set(title="③ 常数输入过 4 层卷积：边界泄漏位置", xlabel="位置 $t$", ylabel="输出（通道 0）")
    ax.legend(fontsize=8)

    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=150)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
