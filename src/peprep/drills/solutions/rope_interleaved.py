"""参考解：RoPE，交错布局（RoFormer / Meta LLaMA / GPT-J：通道 (2i, 2i+1) 成对）。"""

import torch


def apply_rope(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """把 x 的每对通道 (2i, 2i+1) 旋转角度 m·θ_i，θ_i = base^(−2i/D)。

    x: (B, H, T, D)，D 为偶数；positions: (T,) 或 (B, T) 的整数张量（每条序列可以不同，例如左填充或 KV 缓存偏移）。
    返回与 x 同形状、同 dtype 的张量。角度 m·θ_i 必须在 float32（或更高）中计算，即使 x 是 bfloat16。
    """
    d = x.shape[-1]
    inv_freq = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float32) / d)  # (D/2,)
    angles = positions.to(torch.float32)[..., None] * inv_freq  # (T, D/2) or (B, T, D/2), float32
    if angles.ndim == 3:
        angles = angles[:, None]  # (B, 1, T, D/2): the same positions for every head
    cos, sin = angles.cos(), angles.sin()
    xf = x.float()
    x0, x1 = xf[..., 0::2], xf[..., 1::2]  # first and second coordinate of each pair
    out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)  # (B, H, T, D)
    return out.to(x.dtype)
