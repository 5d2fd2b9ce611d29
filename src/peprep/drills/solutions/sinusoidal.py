"""参考解：正弦位置编码（Vaswani et al. 2017 §3.5），交错排列。"""

import math

import torch


def sinusoidal_pe(positions: torch.Tensor, d: int, base: float = 10000.0) -> torch.Tensor:
    """PE(p, 2i) = sin(p·ω_i)，PE(p, 2i+1) = cos(p·ω_i)，ω_i = base^(−2i/d)，i = 0 … d/2−1。

    positions: 任意形状 (...) 的整数或浮点张量（可以带偏移、可以很大）。
    返回 float32 张量，形状 (..., d)，通道交错排列 [sin ω_0 p, cos ω_0 p, sin ω_1 p, …]。
    d 必须是正偶数，否则抛出 ValueError。
    """
    if d <= 0 or d % 2:
        raise ValueError(f"d must be a positive even number, got {d}")
    i = torch.arange(d // 2, dtype=torch.float64)
    omega = torch.exp(-2.0 * i / d * math.log(base))  # (d/2,) ω_0 = 1, falling with i
    angles = positions.to(torch.float64)[..., None] * omega  # (..., d/2): float64 keeps the phase exact at large p
    pe = torch.stack((angles.sin(), angles.cos()), dim=-1)  # (..., d/2, 2)
    return pe.flatten(-2).to(torch.float32)  # (..., d)
