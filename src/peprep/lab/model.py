"""A tiny causal language model in the style of nanoGPT, with a pluggable position scheme.

    x_0 = E[token]·√C (+ PE from the scheme)                    E ~ N(0, 1/C): unit-variance inputs
    x_l = x_{l−1} + Attn(LN(x_{l−1})) ;  x_l = x_l + MLP(LN(x_l))   pre-LN blocks, GELU MLP (4C)
    Attn: q, k, v = split_heads(LN(x) W);  q, k = scheme.rotate(q, k);  softmax(q kᵀ/√D + bias + causal) v
    logits = LN(x_L) W_out                                       untied output layer

The √C input scale is the original Transformer's (§3.4) so that a unit-amplitude sinusoidal PE and the
token embedding start at the same size for every scheme; nothing else differs between encodings.
Attention is torch's fused `scaled_dot_product_attention` (equal to `peprep.encodings.attention` —
tests/encodings/test_attention.py::test_matches_torch_sdpa); with a bias the causal mask is folded in
as −inf above the diagonal (`attention.causal_mask`).

Shapes: idx (B, T) int64 → logits (B, T, V); layout inside attention (B, H, T, D), C = H·D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from peprep.encodings.attention import causal_mask, merge_heads, split_heads
from peprep.lab.positions import PositionScheme


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 256
    d_model: int = 128
    n_heads: int = 4  # head dimension 32: 16 RoPE pairs
    n_layers: int = 4
    mlp_ratio: int = 4

    def __post_init__(self):
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise ValueError(f"d_model={self.d_model} must split into {self.n_heads} heads of even size")


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x: Tensor, scheme: PositionScheme, positions: Tensor, bias: Tensor | None) -> Tensor:
        q, k, v = (split_heads(t, self.n_heads) for t in self.qkv(x).chunk(3, dim=-1))  # (B, H, T, D) each
        q, k = scheme.rotate(q, k, positions)
        if bias is None:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # bias already holds the mask
        return self.proj(merge_heads(out))  # (B, T, C)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.mlp_ratio * cfg.d_model), nn.GELU(),
                                 nn.Linear(cfg.mlp_ratio * cfg.d_model, cfg.d_model))

    def forward(self, x: Tensor, scheme: PositionScheme, positions: Tensor, bias: Tensor | None) -> Tensor:
        x = x + self.attn(self.ln_1(x), scheme, positions, bias)
        return x + self.mlp(self.ln_2(x))


class TinyLM(nn.Module):
    def __init__(self, cfg: ModelConfig, scheme: PositionScheme):
        super().__init__()
        self.cfg = cfg
        self.scheme = scheme
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        nn.init.normal_(self.embed.weight, std=cfg.d_model**-0.5)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, idx: Tensor) -> Tensor:
        t = idx.shape[1]
        positions = torch.arange(t, device=idx.device)  # (T,)
        x = self.scheme.embed(self.embed(idx) * math.sqrt(self.cfg.d_model), positions)  # (B, T, C)
        bias = self.scheme.bias(t)
        if bias is not None:  # fold the causal mask into the additive bias: −inf above the diagonal
            # (1, H, T, T), not (H, T, T): equal by broadcasting, but torch 2.13's CPU SDPA keeps a 4-D
            # float mask on its fused flash kernel and sends a 3-D one to the unfused math path (≈ 3× slower
            # for ALiBi at T = 1024, benchmarks/RESULTS.md).
            bias = bias.masked_fill(~causal_mask(t, t, device=idx.device), float("-inf")).unsqueeze(0)
        for block in self.blocks:
            x = block(x, self.scheme, positions, bias)
        return self.head(self.ln_f(x))  # (B, T, V)

    def loss(self, idx: Tensor, targets: Tensor) -> Tensor:
        """Mean next-token cross-entropy in nats."""
        logits = self(idx)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    @torch.no_grad()
    def token_losses(self, idx: Tensor, targets: Tensor) -> Tensor:
        """Per-token cross-entropy (B, T) in nats."""
        logits = self(idx)
        return F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
