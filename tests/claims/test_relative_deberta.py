"""Claims of chapter 3 about DeBERTa's disentangled attention (peprep.encodings.deberta)."""

from __future__ import annotations

import math

import torch

from peprep.encodings.deberta import build_relative_position, disentangled_scores, make_log_bucket_position

B, H, T, D, SPAN = 2, 3, 9, 8, 4
TOL = dict(rtol=0, atol=1e-12)


def tensors(seed=0, p_symmetric=False):
    g = torch.Generator().manual_seed(seed)
    q_c, k_c = (torch.randn(B, H, T, D, generator=g, dtype=torch.float64) for _ in range(2))
    p = torch.randn(2 * SPAN, 16, generator=g, dtype=torch.float64)  # P, rows = distance − SPAN
    if p_symmetric:  # P_r = P_{−r} for r = −3 … 3 (row 0, distance −4, has no mirror inside the table)
        p[SPAN + 1 :] = p[1:SPAN].flip(0)
    w_qr, w_kr = (torch.randn(16, H * D, generator=g, dtype=torch.float64) for _ in range(2))
    q_r = (p @ w_qr).view(2 * SPAN, H, D).transpose(0, 1)  # (H, 2k, D)
    k_r = (p @ w_kr).view(2 * SPAN, H, D).transpose(0, 1)
    return q_c, k_c, q_r, k_r


def explicit(q_c, k_c, q_r, k_r, p2c_sign=+1):
    """Eq. (4) pair by pair; p2c_sign=+1 reads row δ(i, j) (the code), −1 row δ(j, i) (the paper)."""
    out = torch.zeros(B, H, T, T, dtype=torch.float64)
    for i in range(T):
        for j in range(T):
            d_ij = min(max(i - j + SPAN, 0), 2 * SPAN - 1)
            d_p2c = min(max(p2c_sign * (i - j) + SPAN, 0), 2 * SPAN - 1)
            out[..., i, j] = ((q_c[..., i, :] * k_c[..., j, :]).sum(-1) + (q_c[..., i, :] * k_r[:, d_ij]).sum(-1)
                              + (k_c[..., j, :] * q_r[:, d_p2c]).sum(-1))
    return out / math.sqrt(3 * D)


def test_scale_is_sqrt_3d():
    # Three terms, each a sum of D products: divide by √(3D) to keep the variance of one term.
    q_c, k_c, q_r, k_r = tensors()
    rel = build_relative_position(T, T)
    torch.testing.assert_close(disentangled_scores(q_c, k_c, q_r, k_r, rel), explicit(q_c, k_c, q_r, k_r), **TOL)
    c2c_only = disentangled_scores(q_c, k_c, q_r, k_r, rel, terms=())
    torch.testing.assert_close(c2c_only, q_c @ k_c.transpose(-2, -1) / math.sqrt(D), **TOL)


def test_p2c_code_index_differs_from_paper():
    # The code reads Q^r at δ(i, j) for p2c (same row as c2p); the paper writes δ(j, i). Different
    # in general; equal when the position rows are mirror-symmetric.
    rel = build_relative_position(T, T)
    q_c, k_c, q_r, k_r = tensors(1)
    code = disentangled_scores(q_c, k_c, q_r, k_r, rel, p2c_index="code")
    paper = disentangled_scores(q_c, k_c, q_r, k_r, rel, p2c_index="paper")
    torch.testing.assert_close(paper, explicit(q_c, k_c, q_r, k_r, p2c_sign=-1), **TOL)
    assert (code - paper).abs().max() > 0.1
    q_c, k_c, q_r, k_r = tensors(1, p_symmetric=True)
    inside = (rel.abs() < SPAN)  # pairs whose mirrored distance is also inside the table
    code = disentangled_scores(q_c, k_c, q_r, k_r, rel, p2c_index="code")
    paper = disentangled_scores(q_c, k_c, q_r, k_r, rel, p2c_index="paper")
    torch.testing.assert_close(code[..., inside], paper[..., inside], **TOL)


def test_relative_position_is_query_minus_key():
    rel = build_relative_position(3, 4)
    assert rel.tolist() == [[0, -1, -2, -3], [1, 0, -1, -2], [2, 1, 0, -1]]


def test_log_buckets_exact_inside_mid():
    # DeBERTa-v2/v3: bucket_size 256, max_position 512 -> exact for |r| ≤ 128.
    r = torch.arange(-128, 129)
    assert torch.equal(make_log_bucket_position(r, 256, 512), r)


def test_log_buckets_range():
    # Within |r| ≤ max_position − 1 = 511 the buckets reach ±255 (rows 1 … 511 of the 2·256 table).
    # Beyond, the bucket keeps growing (270 at |r| = 600) and only the index clamp to [0, 2k − 1]
    # of the attention code stops it; the official "faster version" clamps r to ±511 first.
    r = torch.arange(-511, 512)
    b = make_log_bucket_position(r, 256, 512)
    assert b.max() == 255 and b.min() == -255
    assert make_log_bucket_position(torch.tensor(600), 256, 512) == 270
    assert make_log_bucket_position(torch.tensor(511), 256, 512) == 255
    assert make_log_bucket_position(torch.tensor(200), 256, 512) == 128 + math.ceil(math.log(200 / 128) / math.log(511 / 128) * 127)
    assert (b[1:] >= b[:-1]).all() and torch.equal(b, -b.flip(0))  # monotone and odd


def test_no_position_to_position_term():
    # With relative positions only, c2c + c2p + p2c is the whole score: zero content gives zero score.
    q_c, k_c, q_r, k_r = tensors(2)
    rel = build_relative_position(T, T)
    zero = disentangled_scores(torch.zeros_like(q_c), torch.zeros_like(k_c), q_r, k_r, rel)
    assert zero.abs().max() == 0
