"""参考解：ALiBi 的斜率与偏置（Press et al. 2022，官方 get_slopes 的规则）。"""

import math

import torch


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """每个头的斜率 m_1 … m_n，形状 (n_heads,)，浮点。

    n 是 2 的幂：m_h = 2^(−8h/n)，h = 1 … n（8 头为 1/2, 1/4, …, 1/256）。
    否则：c = 不超过 n 的最大 2 的幂；先取 alibi_slopes(c)，再从 alibi_slopes(2c) 中取下标 0, 2, 4, … 的前 n − c 个。
    """
    closest = 2 ** math.floor(math.log2(n_heads))
    slopes = [2.0 ** (-8.0 * h / closest) for h in range(1, closest + 1)]
    if closest < n_heads:
        slopes += alibi_slopes(2 * closest)[0::2][: n_heads - closest].tolist()
    return torch.tensor(slopes, dtype=torch.float64)


def alibi_bias(n_heads: int, t_q: int, t_k: int) -> torch.Tensor:
    """(n_heads, t_q, t_k) 的加性偏置 −m_h·(i − j)。

    查询是 t_k 个位置中的最后 t_q 个（KV 缓存时 t_q < t_k）：第 i 个查询的绝对位置是 i + t_k − t_q。
    只有 j ≤ 查询位置的元素会被使用（其余由因果掩码屏蔽）；在这些元素上，与 −m·(i − j) 每行只差一个常数的
    形式（例如 Bloom 的 m·j）也算对——softmax 对每行加常数不变。
    """
    m = alibi_slopes(n_heads)[:, None, None]  # (H, 1, 1)
    i = torch.arange(t_k - t_q, t_k, dtype=torch.float64)[:, None]  # absolute query positions (T_q, 1)
    j = torch.arange(t_k, dtype=torch.float64)[None, :]  # key positions (1, T_k)
    return -m * (i - j)
