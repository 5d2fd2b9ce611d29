"""参考解：RoPE，前后半布局（GPT-NeoX / Hugging Face：通道 (i, i + D/2) 成对，rotate_half）。"""

import torch


def apply_rope(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """把 x 的通道对 (i, i + D/2) 旋转角度 m·θ_i，θ_i = base^(−2i/D)：x·cos + rotate_half(x)·sin。

    x: (B, H, T, D)，D 为偶数；positions: (T,) 或 (B, T) 的整数张量（每条序列可以不同，例如左填充或 KV 缓存偏移）。
    返回与 x 同形状、同 dtype 的张量。角度 m·θ_i 必须在 float32（或更高）中计算，即使 x 是 bfloat16。
    """
    d = x.shape[-1]
    inv_freq = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float32) / d)  # (D/2,)
    angles = positions.to(torch.float32)[..., None] * inv_freq  # (T, D/2) or (B, T, D/2), float32
    if angles.ndim == 3:
        angles = angles[:, None]  # (B, 1, T, D/2): the same positions for every head
    emb = torch.cat((angles, angles), dim=-1)  # (…, T, D): θ_0 … θ_{D/2−1}, θ_0 … θ_{D/2−1}
    xf = x.float()
    x1, x2 = xf.chunk(2, dim=-1)
    rotated = torch.cat((-x2, x1), dim=-1)  # rotate_half
    return (xf * emb.cos() + rotated * emb.sin()).to(x.dtype)
