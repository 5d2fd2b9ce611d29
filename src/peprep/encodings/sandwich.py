"""Sandwich: Chi, Fan, Rudnicky & Ramadge 2023 (arXiv 2212.10356), "Dissecting Transformer Length
Extrapolation via the Lens of Receptive Field Analysis". Formula as implemented in NVIDIA NeMo
(`SandwichRelativePositionEmbedding`, nemo/collections/nlp/modules/common/megatron/position_embedding/
sandwich_relative_position_embedding.py); the paper body was not available to us, so the constants
below are NeMo's reading of it.

Parameter-free: keep only the position–position term of the sinusoidal encoding, p_i·p_j, and use it
as a bias. For sinusoids that inner product depends on the distance only,

    p_i·p_j = Σ_{t=1}^{d̄/2} [sin(iω_t) sin(jω_t) + cos(iω_t) cos(jω_t)] = Σ_t cos((i − j) ω_t),   ω_t = 10000^(−2t/d̄)

is largest (d̄/2) at i = j and decays, roughly like a logarithm, on average. Sandwich shifts it so the
diagonal is 0 and divides head h (h = 1 … H) by ALiBi-like ratios 8h/H:

    b_h(i, j) = (Σ_t cos((i − j) ω_t) − d̄/2) / (8h/H)

Shapes: bias (H, T_q, T_k); queries the last T_q of T_k positions. Causal use masks j > i.

Claims (each proved by the named test):
- the bias depends on i − j only, is 0 on the diagonal and ≤ 0 elsewhere
  (tests/claims/test_relative_successors.py::test_sandwich_is_shifted_sinusoid_product)
"""

from __future__ import annotations

import torch
from torch import Tensor

BASE = 10000.0


def sandwich_bias(n_heads: int, t_q: int, t_k: int | None = None, *, d_bar: int = 128) -> Tensor:
    """(H, T_q, T_k) Sandwich bias (NeMo's constants: t = 1 … d̄/2, head ratios 8h/H)."""
    t_k = t_q if t_k is None else t_k
    i = torch.arange(t_k - t_q, t_k, dtype=torch.float64)[:, None]
    rel = i - torch.arange(t_k, dtype=torch.float64)[None, :]  # (T_q, T_k)
    omega = BASE ** (-2.0 * torch.arange(1, d_bar // 2 + 1, dtype=torch.float64) / d_bar)  # (d̄/2,)
    inner = torch.cos(rel[..., None] * omega).sum(-1)  # Σ_t cos((i − j) ω_t) = p_i·p_j
    ratio = 8.0 * torch.arange(1, n_heads + 1, dtype=torch.float64) / n_heads  # (H,)
    return (inner - d_bar / 2)[None] / ratio[:, None, None]
