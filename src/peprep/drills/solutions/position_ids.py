"""参考解：左填充批次的位置编号（Hugging Face generate 的规则）。"""

import torch


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) 的 long 张量：每条序列的真实词元按顺序编号 0, 1, 2, …。

    attention_mask: (B, T)，1 表示真实词元，0 表示填充（左填充、右填充都可能）。
    填充位置的编号不会被使用，但必须是合法下标：0 ≤ 编号 < T（不能留下 −1）。
    """
    mask = attention_mask.long()
    positions = mask.cumsum(dim=-1) - 1  # the k-th real token gets k − 1
    return positions.masked_fill(mask == 0, 0)


def next_position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, 1) 的 long 张量：预填充之后，下一个生成的词元的位置 = 该序列的真实词元个数（不是 T）。"""
    return attention_mask.long().sum(dim=-1, keepdim=True)
