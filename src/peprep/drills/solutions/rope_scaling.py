"""参考解：长上下文的 RoPE 频率——线性内插（PI）、NTK-aware 与 YaRN（transformers / 官方代码的做法）。"""

import math

import torch


def _inv_freq(dim: int, base: float) -> torch.Tensor:
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # θ_i, (dim/2,)


def linear_inv_freq(dim: int, base: float, factor: float) -> torch.Tensor:
    """位置内插（PI）：θ_i / s，等价于把位置 m 换成 m / s。返回 (dim/2,) 浮点张量。"""
    return _inv_freq(dim, base) / factor


def ntk_inv_freq(dim: int, base: float, factor: float) -> torch.Tensor:
    """NTK-aware：换底数 base' = base · s^(dim/(dim−2))，再按 θ_i = base'^(−2i/dim) 计算。返回 (dim/2,)。

    这样最高频 θ_0 = 1 不变，最低频恰好变成原来的 1/s。
    """
    return _inv_freq(dim, base * factor ** (dim / (dim - 2)))


def yarn_inv_freq(dim: int, base: float, factor: float, original_max_position_embeddings: int,
                  beta_fast: float = 32.0, beta_slow: float = 1.0):
    """YaRN（官方代码与 transformers 的做法）：返回 (inv_freq (dim/2,), attention_factor)。

    1. 频率对 i 转 L/λ_i 圈的位置：corr(r) = dim · ln(L / (2π r)) / (2 ln base)，L = original_max_position_embeddings。
    2. low = floor(corr(beta_fast))，high = ceil(corr(beta_slow))，再截到 low ≥ 0、high ≤ dim − 1；low == high 时 high += 0.001。
    3. γ_i = 1 − clamp((i − low) / (high − low), 0, 1)（γ = 1 保留原频率，γ = 0 完全内插）。
    4. θ'_i = (1 − γ_i) · θ_i / s + γ_i · θ_i；attention_factor = 0.1 · ln s + 1（s ≤ 1 时为 1）。
    """
    theta = _inv_freq(dim, base)

    def corr(num_rotations: float) -> float:
        return dim * math.log(original_max_position_embeddings / (num_rotations * 2 * math.pi)) / (2 * math.log(base))

    low, high = max(math.floor(corr(beta_fast)), 0), min(math.ceil(corr(beta_slow)), dim - 1)
    if low == high:
        high += 0.001  # avoid a zero-width ramp
    i = torch.arange(dim // 2, dtype=torch.float64)
    gamma = 1 - ((i - low) / (high - low)).clamp(0, 1)  # 1 for fast (high-frequency) pairs: extrapolate
    inv_freq = (1 - gamma) * theta / factor + gamma * theta
    attention_factor = 0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0
    return inv_freq, attention_factor
