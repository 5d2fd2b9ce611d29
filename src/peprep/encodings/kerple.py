"""KERPLE, kernelized relative positional embedding: Chi, Fan, Ramadge & Rudnicky 2022 (arXiv 2205.09921),
and the official code (chijames/KERPLE, megatron/mpu/layers.py: `ParallelKerplePower`, `ParallelKerpleLog`).

A conditionally positive definite (CPD) kernel k̃ of the distance becomes positive definite after
adding a constant, and softmax absorbs any constant added to a row, so k̃ itself can be added to the
logits. Two learned families, one pair (r_1, r_2) per head, for causal distances n = i − j ≥ 0:

    power:   b_h(n) = −r_1 · n^r_2             r_1 > 0, 0 < r_2 ≤ 2     (r_2 = 1, r_1 = ALiBi slope: ALiBi)
    log:     b_h(n) = −r_1 · log(1 + r_2 · n)  r_1, r_2 > 0             (the variant the paper recommends)

The official code initialises r_1 ~ U(0, 2) and r_2 ~ U(0, 1) for the log kernel and clamps both at
≥ 0.01 (power: r_2 ≤ 2) before each use — also in its ALiBi-reproducing mode, so slopes below 0.01
(2^−7, 2^−8 of 8 heads) are lifted there. The bias is added after q·k/√D, like ALiBi.

Shapes: r_1, r_2 (H,); bias (H, T_q, T_k), queries the last T_q of T_k positions; entries with j > i
are 0 here (the causal mask removes them).

Claims (each proved by the named test):
- power with r_2 = 1 and r_1 = ALiBi slopes is ALiBi (tests/claims/test_relative_successors.py::test_kerple_power_with_exponent_one_is_alibi)
- the log kernel decays sublinearly: slower than any line through its first step
  (tests/claims/test_relative_successors.py::test_kerple_log_decays_sublinearly)
- a constant offset of the kernel leaves attention unchanged (tests/claims/test_relative_successors.py::test_kernel_offset_is_absorbed)
"""

from __future__ import annotations

import torch
from torch import Tensor

EPS = 1e-2  # the official clamp


def causal_distance(t_q: int, t_k: int | None = None, dtype=torch.float64) -> Tensor:
    """(T_q, T_k) n = max(i − j, 0) with queries the last T_q of T_k positions."""
    t_k = t_q if t_k is None else t_k
    i = torch.arange(t_k - t_q, t_k, dtype=dtype)[:, None]
    return (i - torch.arange(t_k, dtype=dtype)[None, :]).clamp(min=0)


def kerple_power_bias(r1: Tensor, r2: Tensor, t_q: int, t_k: int | None = None) -> Tensor:
    """(H, T_q, T_k) = −r_1 n^{r_2}, parameters clamped as in the official code."""
    n = causal_distance(t_q, t_k, dtype=r1.dtype)
    r1, r2 = r1.clamp(min=EPS)[:, None, None], r2.clamp(min=EPS, max=2.0)[:, None, None]
    return -r1 * n.pow(r2)


def kerple_log_bias(r1: Tensor, r2: Tensor, t_q: int, t_k: int | None = None) -> Tensor:
    """(H, T_q, T_k) = −r_1 log(1 + r_2 n), parameters clamped as in the official code."""
    n = causal_distance(t_q, t_k, dtype=r1.dtype)
    r1, r2 = r1.clamp(min=EPS)[:, None, None], r2.clamp(min=EPS)[:, None, None]
    return -r1 * torch.log1p(r2 * n)
