"""参考解：带 KV 缓存的 RoPE 注意力一步（前后半布局，Hugging Face 式）。"""

import math

import torch


def rope_attention_step(q, k, v, k_cache, v_cache, base: float = 10000.0):
    """一次带 KV 缓存的因果自注意力：旋转新的 q、k，追加进缓存，再做注意力。

    q, k, v: (B, H, T, D) 本次新来的 T 个词元；它们的位置是 P, P+1, …, P+T−1，P = k_cache.shape[2]（可以为 0）。
    k_cache: (B, H, P, D) 之前词元的键，已经旋转过；v_cache: (B, H, P, D) 之前词元的值（值从不旋转）。
    RoPE 用前后半布局（通道 (i, i + D/2) 成对），θ_i = base^(−2i/D)，角度用 float32 计算。
    新词元 t 能看到全部缓存和新词元中位置不晚于它的那些（因果掩码对齐到右下角）。
    返回 (out, k_cache, v_cache)：out (B, H, T, D)；更新后的缓存 (B, H, P+T, D)。
    """
    past, t, d = k_cache.shape[2], q.shape[2], q.shape[-1]
    positions = torch.arange(past, past + t, dtype=torch.float32)  # new tokens continue after the cache
    inv_freq = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
    emb = positions[:, None] * inv_freq  # (T, D/2)
    emb = torch.cat((emb, emb), dim=-1)  # (T, D)
    cos, sin = emb.cos(), emb.sin()

    def rotate(x):
        x1, x2 = x.float().chunk(2, dim=-1)
        return (x.float() * cos + torch.cat((-x2, x1), dim=-1) * sin).to(x.dtype)

    q, k = rotate(q), rotate(k)  # v is never rotated
    k_cache = torch.cat((k_cache, k), dim=2)  # cache keys after rotation: never touched again
    v_cache = torch.cat((v_cache, v), dim=2)
    scores = q @ k_cache.transpose(-2, -1) / math.sqrt(d)  # (B, H, T, P+T)
    allowed = torch.ones(t, past + t, dtype=torch.bool).tril(diagonal=past)  # query i sits at position past+i
    scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(dim=-1) @ v_cache, k_cache, v_cache
