"""FIRE, functional interpolation for relative positions: Li et al. 2024 (arXiv 2310.04418, ICLR 2024).

A learned function of a *normalised* causal distance is added to the logits of each head:

    b(i, j) = f_θ( ψ(i − j) / ψ(max(L, i)) ),        ψ(x) = log(c·x + 1),   j ≤ i

f_θ: a small MLP R -> R^H (the paper's reference code: 1 -> 32 -> H with ReLU); c > 0 learned
(initialised to 0.1); L a learned threshold (512 × a learned multiplier). Dividing by the query's
own position ("progressive interpolation") maps every distance into [0, 1], so a longer input
never presents the MLP with an input it has not seen; the threshold L keeps short prefixes from
being stretched (for i ≤ L the denominator is the constant ψ(L)). ψ spreads out small distances.

Shapes: bias (H, T_q, T_k); queries the last T_q of T_k positions; entries with j > i are set to 0
(the causal mask removes them).

Claims (each proved by the named test):
- the MLP input lies in [0, 1] at every length, and for i ≤ L it is ψ(i − j)/ψ(L)
  (tests/claims/test_relative_successors.py::test_fire_inputs_are_normalised)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def fire_normalised_distance(t_q: int, t_k: int | None = None, *, c: float | Tensor = 0.1,
                             threshold: float | Tensor = 512.0, eps: float = 1e-6) -> Tensor:
    """(T_q, T_k) ψ(i − j)/ψ(max(L, i)) in [0, 1]; 0 where j > i."""
    t_k = t_q if t_k is None else t_k
    c = torch.as_tensor(c, dtype=torch.float64)
    i = torch.arange(t_k - t_q, t_k, dtype=torch.float64)[:, None]
    n = (i - torch.arange(t_k, dtype=torch.float64)[None, :]).clamp(min=0)
    normaliser = torch.maximum(i, torch.as_tensor(threshold, dtype=torch.float64).abs())
    return torch.log1p((c * n).abs()) / (torch.log1p((c * normaliser).abs()) + eps)


class FIREBias(nn.Module):
    """f_θ with learned c and L: forward(T_q, T_k) -> (H, T_q, T_k)."""

    def __init__(self, n_heads: int, mlp_width: int = 32, init_c: float = 0.1, init_threshold: float = 512.0):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(1, mlp_width), nn.ReLU(), nn.Linear(mlp_width, n_heads))
        self.c = nn.Parameter(torch.tensor(init_c))
        self.register_buffer("init_threshold", torch.tensor(init_threshold))
        self.threshold_multiplier = nn.Parameter(torch.tensor(1.0))

    def forward(self, t_q: int, t_k: int | None = None) -> Tensor:
        x = fire_normalised_distance(t_q, t_k, c=self.c, threshold=self.threshold_multiplier * self.init_threshold)
        return self.mlp(x.to(self.c.dtype)[..., None]).permute(2, 0, 1)  # (T_q, T_k, H) -> (H, T_q, T_k)


def psi(x: Tensor | float, c: float = 0.1) -> Tensor:
    """ψ(x) = log(c·x + 1), in float64."""
    return torch.log1p(c * torch.as_tensor(x, dtype=torch.float64))
