"""参考解：可学习绝对位置嵌入（BERT / GPT-2 式），支持 KV 缓存的位置偏移。"""

import torch
from torch import nn


class LearnedPositionalEmbedding(nn.Module):
    """x + P[offset : offset + T]，P 是一张可训练的 (max_len, d_model) 表。

    - P 必须是 nn.Parameter（会出现在 state_dict、会被优化器更新）。
    - forward(x, offset=0)：x 形状 (B, T, d_model)；返回同形状、与 x 相同 dtype 的张量。
      offset 是 KV 缓存里已有的词元数，新词元的位置是 offset, offset+1, …
    - 位置超出 [0, max_len) 时抛出 IndexError（或 ValueError），不能静默截断或回绕。
    """

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        self.max_len = max_len
        self.weight = nn.Parameter(torch.randn(max_len, d_model) * 0.02)  # BERT/GPT-2 scale

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        t = x.shape[1]
        if offset < 0 or offset + t > self.max_len:
            raise IndexError(f"positions {offset}..{offset + t - 1} are outside the table (max_len={self.max_len})")
        return x + self.weight[offset:offset + t].to(x.dtype)  # (B, T, C); keep the input's dtype
