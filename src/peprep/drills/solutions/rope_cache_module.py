"""参考解：RoPE 的 cos/sin 缓存模块——不进 checkpoint、按需变长、不怕 model.to(torch.bfloat16)。"""

import torch
from torch import nn


class RotaryCache(nn.Module):
    """按位置返回 RoPE 的 cos、sin（前后半布局：emb = cat(freqs, freqs)）。

    - __init__(head_dim, base=10000.0, max_position=2048)：预先算好 max_position 个位置。
    - forward(positions)：positions 为任意形状 (...) 的非负整数张量；返回 (cos, sin)，
      各为 float32、形状 (..., head_dim)。位置超过已缓存的长度时要自动重建，不能报错。
    - 缓存不属于模型权重：state_dict() 里不能有它们。
    - 模型整体 .to(torch.bfloat16) 之后，返回值仍须是精确的 float32（频率和角度不能被降成 bf16）。
    """

    def __init__(self, head_dim: int, base: float = 10000.0, max_position: int = 2048):
        super().__init__()
        self.head_dim, self.base = head_dim, float(base)
        # Plain attributes, not buffers: `module.to(torch.bfloat16)` casts every floating buffer (even
        # non-persistent ones) but leaves attributes alone, and state_dict never sees them.
        self._cos = self._sin = torch.empty(0, head_dim)
        self._build(max_position, torch.device("cpu"))

    def _build(self, n_positions: int, device: torch.device) -> None:
        i = torch.arange(0, self.head_dim, 2, dtype=torch.float64, device=device)
        inv_freq = self.base ** (-i / self.head_dim)  # (D/2,) float64
        angles = torch.arange(n_positions, dtype=torch.float64, device=device)[:, None] * inv_freq
        emb = torch.cat((angles, angles), dim=-1)  # (n, D)
        self._cos, self._sin = emb.cos().float(), emb.sin().float()

    def forward(self, positions: torch.Tensor):
        needed = int(positions.max()) + 1 if positions.numel() else 0
        if needed > self._cos.shape[0] or self._cos.device != positions.device:
            self._build(max(needed, 2 * self._cos.shape[0]), positions.device)  # grow geometrically
        return self._cos[positions], self._sin[positions]
