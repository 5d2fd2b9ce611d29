"""Position schemes for the lab's model: thin adapters over `peprep.encodings`, one interface.

A scheme can act at three places (design.md's "five entrances", three of which these use):

    embed(x, positions)      add a vector to the input               sinusoidal, learned
    rotate(q, k, positions)  rotate queries and keys in every layer  RoPE (+ PI / NTK / YaRN frequencies)
    bias(t)                  add (H, T, T) to the logits             ALiBi, T5 relative bias
    (nothing)                                                         NoPE: only the causal mask

Shapes: x (B, T, C); q, k (B, H, T, D); positions (T,) int64 0 … T − 1; bias (H, T, T).

What is reused (not re-implemented): `sinusoidal.sinusoidal_table`, `learned.LearnedPositionalEmbedding`
(raises `PositionOutOfRange` beyond its table), `rope.angles/cos_sin/apply_rotary`,
`rope_scaling.rope_frequencies`, `alibi.alibi_bias`, `t5_bias.T5RelativeBias`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from peprep.encodings.alibi import alibi_bias
from peprep.encodings.learned import LearnedPositionalEmbedding
from peprep.encodings.rope import angles, apply_rotary, cos_sin
from peprep.encodings.rope_scaling import DefaultRope, RopeParams, rope_frequencies
from peprep.encodings.sinusoidal import sinusoidal_table
from peprep.encodings.t5_bias import T5RelativeBias

ENCODINGS = ("sinusoidal", "learned", "rope", "alibi", "t5", "nope")


class PositionScheme(nn.Module):
    """Default: no position information anywhere (NoPE)."""

    name = "nope"

    def embed(self, x: Tensor, positions: Tensor) -> Tensor:
        return x

    def rotate(self, q: Tensor, k: Tensor, positions: Tensor) -> tuple[Tensor, Tensor]:
        return q, k

    def bias(self, t: int) -> Tensor | None:
        return None


class Sinusoidal(PositionScheme):
    """x + PE(p), Vaswani et al. 2017 (interleaved sin/cos, base 10000); nothing learned."""

    name = "sinusoidal"

    def __init__(self, d_model: int):
        super().__init__()
        self.d_model = d_model

    def embed(self, x: Tensor, positions: Tensor) -> Tensor:
        table = sinusoidal_table(int(positions.max()) + 1, self.d_model, dtype=x.dtype).to(x.device)
        return x + table[positions]  # (B, T, C)


class Learned(PositionScheme):
    """x + P[p] with a trainable (L_train, C) table; a position >= L_train raises PositionOutOfRange."""

    name = "learned"

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        self.table = LearnedPositionalEmbedding(max_len, d_model)

    def embed(self, x: Tensor, positions: Tensor) -> Tensor:
        return self.table(x, positions=positions)


class Rotary(PositionScheme):
    """RoPE on every layer's q and k (interleaved pairs) with swappable frequencies.

    `scaling` is any parameter object of `rope_scaling`; the lab trains with `DefaultRope` and swaps in
    PI / NTK / YaRN at evaluation time without retraining. The attention factor multiplies the rotated q
    and k (as YaRN's code multiplies cos and sin), so the logits are scaled by its square.
    """

    name = "rope"

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        self.head_dim = head_dim
        self.scaling: RopeParams = DefaultRope(base)

    def rotate(self, q: Tensor, k: Tensor, positions: Tensor) -> tuple[Tensor, Tensor]:
        inv_freq, attention_factor = rope_frequencies(self.scaling, self.head_dim)
        cos, sin = cos_sin(angles(positions, inv_freq), layout="interleaved")  # (T, D) float32
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if attention_factor != 1.0:
            q, k = q * attention_factor, k * attention_factor
        return q, k


class ALiBi(PositionScheme):
    """Logits − m_h (i − j), the official slopes; nothing learned."""

    name = "alibi"

    def __init__(self, n_heads: int):
        super().__init__()
        self.n_heads = n_heads

    def bias(self, t: int) -> Tensor:
        return alibi_bias(self.n_heads, t).float()  # (H, T, T)


class T5Bias(PositionScheme):
    """Logits + b_h[bucket(j − i)], causal buckets, one table shared by all layers (T5's choice).

    max_distance is set to the training length so every bucket is reached in training (T5 itself:
    128 for 512-token inputs); all longer distances share the last, trained bucket.
    """

    name = "t5"

    def __init__(self, n_heads: int, max_distance: int, num_buckets: int = 32):
        super().__init__()
        self.table = T5RelativeBias(n_heads, bidirectional=False, num_buckets=num_buckets, max_distance=max_distance)

    def bias(self, t: int) -> Tensor:
        return self.table(t)  # (H, T, T)


def make_scheme(name: str, *, d_model: int, n_heads: int, train_len: int, rope_base: float = 10000.0) -> PositionScheme:
    if name == "sinusoidal":
        return Sinusoidal(d_model)
    if name == "learned":
        return Learned(train_len, d_model)
    if name == "rope":
        return Rotary(d_model // n_heads, rope_base)
    if name == "alibi":
        return ALiBi(n_heads)
    if name == "t5":
        return T5Bias(n_heads, max_distance=train_len)
    if name == "nope":
        return PositionScheme()
    raise ValueError(f"unknown encoding {name!r}; known: {', '.join(ENCODINGS)}")
