"""Claims of chapter 3 about T5's bucketed relative bias (peprep.encodings.t5_bias)."""

from __future__ import annotations

import math

import torch

from peprep.encodings.attention import scaled_dot_product_attention
from peprep.encodings.t5_bias import relative_position_bucket, t5_attention, t5_position_bias

DIST = torch.arange(0, 400)


def past(n):  # relative position of a key n tokens before the query (r = j − i = −n)
    return -torch.as_tensor(n)


def test_buckets_monotone_in_distance():
    for bidirectional in (True, False):
        b = relative_position_bucket(past(DIST), bidirectional=bidirectional)
        assert (b[1:] >= b[:-1]).all()


def test_buckets_exact_below_threshold():
    # Half of each side's buckets are one per distance: 8 per side (bidirectional), 16 (causal).
    assert torch.equal(relative_position_bucket(past(torch.arange(8))), torch.arange(8))
    assert torch.equal(relative_position_bucket(past(torch.arange(16)), bidirectional=False), torch.arange(16))
    assert relative_position_bucket(past(8)) == 8 and relative_position_bucket(past(11)) == 8


def test_log_spaced_boundaries():
    # Bucket E + b starts at the first n with ⌊log(n/E)/log(M/E)·(N−E)⌋ = b, i.e. n ≥ E·(M/E)^(b/(N−E)):
    # geometric boundaries. Encoder (N = 16 per side, E = 8): 8, 12, 16, 23, 32, 46, 64, 91.
    b = relative_position_bucket(past(DIST))
    starts = [int(DIST[b == x][0]) for x in range(8, 16)]
    assert starts == [8, 12, 16, 23, 32, 46, 64, 91]
    assert starts == [math.ceil(8 * 16 ** (x / 8)) for x in range(8)]
    # Decoder (N = 32, E = 16): 16 log buckets from 16 up to 113.
    bc = relative_position_bucket(past(DIST), bidirectional=False)
    starts_c = [int(DIST[bc == x][0]) for x in range(16, 32)]
    assert starts_c == [16, 19, 21, 24, 27, 31, 35, 40, 46, 52, 59, 67, 77, 87, 99, 113]


def test_max_distance_shares_last_bucket():
    # Everything from 91 (encoder) / 113 (decoder) on — 128 and far beyond — is one bucket.
    assert set(relative_position_bucket(past(torch.arange(91, 5000))).tolist()) == {15}
    assert set(relative_position_bucket(past(torch.arange(113, 5000)), bidirectional=False).tolist()) == {31}


def test_bidirectional_splits_by_sign():
    # Keys after the query (r > 0) use buckets 16 … 31, keys before 0 … 15, with the same spacing.
    before = relative_position_bucket(past(DIST))
    after = relative_position_bucket(DIST)
    assert torch.equal(after[1:], before[1:] + 16)
    assert after[0] == before[0] == 0  # r = 0 counts as "not after"
    # The decoder never looks ahead: future keys collapse into bucket 0 (and are masked).
    assert (relative_position_bucket(DIST, bidirectional=False) == 0).all()


def test_bucket_of_distance_37():
    # Encoder: 8 + ⌊log(37/8)/log(16)·8⌋ = 8 + ⌊4.42⌋ = 12 (key before), 16 + 12 = 28 (key after).
    # Decoder: 16 + ⌊log(37/16)/log(8)·16⌋ = 16 + ⌊6.45⌋ = 22.
    assert 8 + math.floor(math.log(37 / 8) / math.log(16) * 8) == 12
    assert relative_position_bucket(torch.tensor(-37)) == 12
    assert relative_position_bucket(torch.tensor(37)) == 28
    assert relative_position_bucket(torch.tensor(-37), bidirectional=False) == 22


def test_bias_depends_only_on_offset():
    table = torch.randn(32, 4, dtype=torch.float64)
    bias = t5_position_bias(table, 20)
    for d in range(-19, 20):
        diag = torch.diagonal(bias, offset=d, dim1=-2, dim2=-1)
        assert (diag == diag[:, :1]).all()


def test_cache_rows_are_last_rows():
    # Decoding with a KV cache: the new query's bias is the last row of the full bias.
    table = torch.randn(32, 4, dtype=torch.float64)
    full = t5_position_bias(table, 50, bidirectional=False)
    step = t5_position_bias(table, 1, 50, bidirectional=False)  # one query at position 49
    assert torch.equal(step[:, 0], full[:, -1])


def test_t5_attention_is_unscaled():
    # softmax(q k^T + b) v: no 1/√D — different from the shared function's scaled logits.
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 6, 16, generator=g, dtype=torch.float64) for _ in range(3))
    bias = t5_position_bias(torch.randn(32, 2, generator=g, dtype=torch.float64), 6)
    expected = (q @ k.transpose(-2, -1) + bias).softmax(-1) @ v
    torch.testing.assert_close(t5_attention(q, k, v, bias), expected, rtol=0, atol=1e-12)
    assert (scaled_dot_product_attention(q, k, v, bias=bias) - expected).abs().max() > 1e-3
