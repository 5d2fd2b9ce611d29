"""参考解：把交错布局训练的 W_q / W_k 转成前后半布局（convert_llama_weights_to_hf 的 permute）。"""

import torch


def permute_for_half(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """重排 q 或 k 投影的输出通道（第 0 维），使交错布局的权重能配前后半布局的 RoPE 使用。

    w: (n_heads·D, C) 的 nn.Linear 权重，或 (n_heads·D,) 的偏置向量；对 W_k 传键值头数（GQA）。
    每个头内部：新第 j 行 = 旧第 2j 行，新第 j + D/2 行 = 旧第 2j+1 行（j < D/2）。
    返回同形状的张量；各头之间的顺序不变。
    """
    rows = w.shape[0]
    head_dim = rows // n_heads
    if rows % n_heads or head_dim % 2:
        raise ValueError(f"{rows} rows do not split into {n_heads} heads of even size")
    per_head = w.reshape(n_heads, head_dim // 2, 2, *w.shape[1:])  # (H, D/2, 2, ...): row 2j+h = (j, h)
    return per_head.transpose(1, 2).reshape(w.shape)  # (H, 2, D/2, ...): all first coords, then all second
