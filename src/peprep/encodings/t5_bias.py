"""T5 relative position bias: Raffel et al. 2020 (arXiv 1910.10683), §2.1 "Model", and Mesh TensorFlow's
`_relative_position_bucket` (the function transformers' `T5Attention` adapts).

One learned scalar per (bucket, head) is added to the attention logit; nothing is added to the inputs
or to the values:

    S_hij = q_i·k_j  +  b_h[bucket(j − i)]                       note: no 1/√D (see below)

The bucket of the relative position r = j − i (key minus query), with N buckets and max distance M
(T5: N = 32, M = 128):

    bidirectional (encoder):  N ← N/2; keys after the query (r > 0) get + N/2; n = |r|
    causal (decoder):         n = max(−r, 0)       (future keys all land in bucket 0; they are masked)
    E = N/2 exact buckets:    bucket = n                                   for n < E
    log-spaced buckets:       bucket = min(E + ⌊log(n/E) / log(M/E) · (N − E)⌋, N − 1)   for n ≥ E

so every distance ≥ M shares the last bucket (with N = 32 it already starts at 91 in the encoder and
113 in the decoder, because of the floor). T5 computes the bias in the first layer of each stack and
passes it to every later layer (one table per stack, different per head), and its attention has no
1/√D: the scale is folded into the initialisation of W_Q (std (d_model·d_kv)^−1/2 in transformers).

Shapes: table (N, H); bias (H, T_q, T_k); queries are the last T_q of T_k positions, as with a KV
cache (`offset` = number of cached tokens, transformers' `past_seen_tokens`).

Claims (each proved by the named test):
- buckets are monotone in |r|, exact below N/2 (N/4 per side when bidirectional), log-spaced above,
  split by sign when bidirectional (tests/claims/test_relative_t5.py::test_buckets_monotone_in_distance,
  ::test_buckets_exact_below_threshold, ::test_log_spaced_boundaries, ::test_bidirectional_splits_by_sign)
- bucket(±37): 12 / 28 bidirectional, 22 causal (tests/claims/test_relative_t5.py::test_bucket_of_distance_37)
- with a cache the bias rows are the last rows of the full bias (tests/claims/test_relative_t5.py::test_cache_rows_are_last_rows)
- equals transformers `T5Attention` and x-transformers `RelativePositionBias` (tests/peers/test_relative_peers.py)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from peprep.encodings.attention import scaled_dot_product_attention

NUM_BUCKETS = 32  # T5's choice for every model size
MAX_DISTANCE = 128


def relative_position_bucket(
    relative_position: Tensor, *, bidirectional: bool = True, num_buckets: int = NUM_BUCKETS, max_distance: int = MAX_DISTANCE
) -> Tensor:
    """Bucket ids in [0, num_buckets) for integer relative positions r = key − query (any shape)."""
    r = relative_position.long()
    bucket = torch.zeros_like(r)
    if bidirectional:
        num_buckets //= 2
        bucket = bucket + (r > 0).long() * num_buckets  # keys after the query use the upper half
        n = r.abs()
    else:
        n = (-r).clamp(min=0)  # distance back into the past; future keys collapse to 0
    exact = num_buckets // 2
    # float32, like Mesh TensorFlow and transformers: the floor must land on the same side they do.
    log_ratio = torch.log(n.float() / exact) / math.log(max_distance / exact)
    large = exact + (log_ratio * (num_buckets - exact)).long()  # n = 0 gives -inf -> unused below
    large = large.clamp(max=num_buckets - 1)
    return bucket + torch.where(n < exact, n, large)


def t5_position_bias(
    table: Tensor,
    t_q: int,
    t_k: int | None = None,
    *,
    bidirectional: bool = True,
    offset: int | None = None,
    max_distance: int = MAX_DISTANCE,
) -> Tensor:
    """(H, T_q, T_k) bias b_h[bucket(j − i)] from a (num_buckets, H) table.

    `offset` is the absolute position of the first query (default T_k − T_q: queries are the last keys).
    """
    t_k = t_q if t_k is None else t_k
    offset = t_k - t_q if offset is None else offset
    i = torch.arange(t_q, device=table.device)[:, None] + offset  # (T_q, 1) absolute query positions
    j = torch.arange(t_k, device=table.device)[None, :]  # (1, T_k)
    buckets = relative_position_bucket(
        j - i, bidirectional=bidirectional, num_buckets=table.shape[0], max_distance=max_distance
    )  # (T_q, T_k)
    return table[buckets].permute(2, 0, 1)  # (T_q, T_k, H) -> (H, T_q, T_k)


def t5_attention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, *, causal: bool = False) -> Tensor:
    """softmax(q k^T + bias) v — T5's unscaled logits, through the shared attention function.

    The shared function divides by √D; multiplying q by √D first cancels it exactly.
    """
    return scaled_dot_product_attention(q * math.sqrt(q.shape[-1]), k, v, causal=causal, bias=bias)


class T5RelativeBias(nn.Module):
    """The learned (num_buckets, H) table of one T5 stack; call it once and pass the bias to every layer."""

    def __init__(self, n_heads: int, *, bidirectional: bool = True, num_buckets: int = NUM_BUCKETS,
                 max_distance: int = MAX_DISTANCE):
        super().__init__()
        self.bidirectional, self.max_distance = bidirectional, max_distance
        self.table = nn.Parameter(torch.randn(num_buckets, n_heads) * 0.02)

    def forward(self, t_q: int, t_k: int | None = None, offset: int | None = None) -> Tensor:
        return t5_position_bias(self.table, t_q, t_k, bidirectional=self.bidirectional, offset=offset,
                                max_distance=self.max_distance)
