"""CoPE, contextual position encoding: Golovneva, Wang, Weston & Sukhbaatar 2024 (arXiv 2405.18719), §3
and the reference code of its Appendix B (which x-transformers' `CoPE` follows).

Positions are counted, not indexed: a gate decides, from content, whether key t counts.

    g_it  = σ(q_i·k_t)                                  gate of key t for query i (causal: t ≤ i)
    p_ij  = Σ_{t=j}^{i} g_it                            a fractional "how many counted tokens back"
    e[p]  = (p − ⌊p⌋) e[⌈p⌉] + (1 − p + ⌊p⌋) e[⌊p⌋]    interpolate learned position embeddings e[0 … P−1]
    S_ij  = q_i·k_j + q_i·e[p_ij]

With every gate 1, p_ij = i − j + 1 and CoPE is a relative encoding of token distance; gates that
fire only on, say, sentence ends make p count sentences. q_i·e[p] is computed once per integer p
((T, P) products) and interpolated, instead of materialising e[p_ij] (T, T, D). Positions are
clamped at P − 1. The gates use the already scaled and causally masked logits (a masked logit of −∞
gives gate 0).

Shapes: q (B, H, T, D); logits (B, H, T, T), causally masked; e (P, D); output (B, H, T, T) to add.

Claims (each proved by the named test):
- with all gates open, p_ij = i − j + 1: CoPE reduces to a relative encoding of distance
  (tests/claims/test_relative_successors.py::test_cope_counts_tokens_when_gates_open)
- closed gates are skipped: positions count only the tokens whose gate fires
  (tests/claims/test_relative_successors.py::test_cope_counts_only_gated_tokens)
- equals x-transformers' `CoPE` (tests/peers/test_relative_peers.py::test_cope_matches_x_transformers)
"""

from __future__ import annotations

from torch import Tensor


def cope_positions(gates: Tensor) -> Tensor:
    """p_ij = Σ_{t=j}^{i} g_it: a reverse cumulative sum over keys (gates of future keys must be 0)."""
    return gates.flip(-1).cumsum(-1).flip(-1)


def cope_bias(q: Tensor, logits: Tensor, pos_emb: Tensor) -> Tensor:
    """q_i·e[p_ij] with p from the gates σ(logits), linearly interpolated between integer positions."""
    pos = cope_positions(logits.sigmoid()).clamp(max=pos_emb.shape[0] - 1)  # (B, H, T, T)
    per_position = q @ pos_emb.T  # (B, H, T, P): q_i·e[p] for every integer p
    floor, ceil = pos.floor().long(), pos.ceil().long()
    w = pos - floor  # weight of the upper neighbour
    return per_position.gather(-1, ceil) * w + per_position.gather(-1, floor) * (1 - w)
