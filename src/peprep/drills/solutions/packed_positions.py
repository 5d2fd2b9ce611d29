"""参考解：序列打包（packing）——按文档重置位置、cu_seqlens、块对角因果掩码。"""

import torch


def packed_position_ids(seq_lens: list[int]) -> torch.Tensor:
    """把长度为 seq_lens 的若干文档拼成一行：返回 (1, N) 的 long 张量，每篇文档的位置从 0 重新开始。"""
    return torch.cat([torch.arange(n) for n in seq_lens])[None]


def cu_seqlens(position_ids: torch.Tensor) -> torch.Tensor:
    """由 (1, N) 的打包位置编号求 FlashAttention varlen 接口的累积长度：int32，[0, n_1, n_1+n_2, …, N]。"""
    flat = position_ids.reshape(-1)
    starts = (flat == 0).nonzero().reshape(-1)  # every document starts at position 0
    return torch.cat([starts, torch.tensor([flat.numel()])]).to(torch.int32)


def packed_causal_mask(position_ids: torch.Tensor) -> torch.Tensor:
    """(1, N, N) 的 bool 掩码：词元 i 能看到词元 j 当且仅当二者属于同一篇文档且 j ≤ i。"""
    flat = position_ids.reshape(-1)
    doc = (flat == 0).long().cumsum(dim=0)  # document index of every token
    n = flat.numel()
    same_doc = doc[:, None] == doc[None, :]
    return (same_doc & torch.ones(n, n, dtype=torch.bool).tril())[None]
