"""Checks for `t5-bucket`; reference: `peprep.encodings.t5_bias.relative_position_bucket`."""

from __future__ import annotations

import math
from typing import Callable

import torch

from peprep.drills.checks.base import Bug, Candidate, expect
from peprep.encodings.t5_bias import relative_position_bucket as reference

SIGN = Bug("sign-flipped", "相对位置的符号反了：r 应是 键位置 − 查询位置（transformers 里是 memory_position − context_position）。")
NO_HALVING = Bug("no-halving", "双向时没有把桶数减半：编码器要把 num_buckets 对半分给“键在前”和“键在后”两个方向。")
NO_CLAMP = Bug("no-clamp", "对数桶没有截到 num_buckets − 1：超过 max_distance 的距离必须都落在最后一个桶。")
CAUSAL_ABS = Bug("unidirectional-abs", "单向时用了 |r|：解码器只看过去，n = max(−r, 0)，未来的键（r > 0）都落在桶 0。")
FLOAT64 = Bug("float64-log", "对数在 float64 中计算：个别边界距离会落到相邻的桶（Mesh TensorFlow 和 transformers 用 float32）。")


def _plain(r: torch.Tensor, bidirectional: bool, num_buckets: int, max_distance: int, *, halve=True, clamp=True,
           causal_abs=False, dtype=torch.float32) -> torch.Tensor:
    """The bucket function with one step changed, to recognise the common mistakes."""
    r = r.long()
    bucket = torch.zeros_like(r)
    if bidirectional:
        if halve:
            num_buckets //= 2
        bucket = bucket + (r > 0).long() * num_buckets
        n = r.abs()
    else:
        n = r.abs() if causal_abs else (-r).clamp(min=0)
    exact = num_buckets // 2
    large = exact + (torch.log(n.to(dtype).clamp(min=1) / exact) / math.log(max_distance / exact)
                     * (num_buckets - exact)).long()
    if clamp:
        large = large.clamp(max=num_buckets - 1)
    return bucket + torch.where(n < exact, n, large)


def _variants(r, bidirectional, nb, md) -> dict[Bug, Callable]:
    return {SIGN: lambda: reference(-r, bidirectional=bidirectional, num_buckets=nb, max_distance=md),
            NO_HALVING: lambda: _plain(r, bidirectional, nb, md, halve=False),
            NO_CLAMP: lambda: _plain(r, bidirectional, nb, md, clamp=False),
            CAUSAL_ABS: lambda: _plain(r, bidirectional, nb, md, causal_abs=True),
            FLOAT64: lambda: _plain(r, bidirectional, nb, md, dtype=torch.float64)}


def _check(c: Candidate, r: torch.Tensor, label: str, *, bidirectional=True, nb=32, md=128) -> None:
    case = f"{label}，bidirectional={bidirectional}，num_buckets={nb}，max_distance={md}"
    c.case = case
    got = c.call("relative_position_bucket", r.clone(), bidirectional=bidirectional, num_buckets=nb, max_distance=md)
    expected = reference(r, bidirectional=bidirectional, num_buckets=nb, max_distance=md)
    expect(c, case, expected, got, atol=0, variants=_variants(r, bidirectional, nb, md))


def exact_buckets(c: Candidate) -> None:
    _check(c, torch.arange(-7, 8), "r = −7 … 7")


def sign(c: Candidate) -> None:
    query, key = torch.arange(6)[:, None], torch.arange(6)[None, :]
    _check(c, key - query, "r = 键 − 查询，6 × 6 矩阵（上三角是键在查询之后）")


def log_buckets(c: Candidate) -> None:
    _check(c, torch.tensor([8, 12, 16, 37, 64, 90, 91, 127, 128, 500, 1000]), "r = 8 … 1000（正方向）")
    _check(c, -torch.tensor([8, 12, 16, 37, 64, 90, 91, 127, 128, 500, 1000]), "r = −8 … −1000（负方向）")


def unidirectional(c: Candidate) -> None:
    _check(c, torch.arange(-20, 21), "r = −20 … 20", bidirectional=False)
    _check(c, torch.tensor([-1000, -128, -113, -112, -37, -16, 5, 300]), "r 含远距离与未来", bidirectional=False)


def other_sizes(c: Candidate) -> None:
    r = torch.tensor([-300, -40, -9, -3, 0, 2, 7, 33, 200])
    _check(c, r, "r 混合", nb=16, md=32)
    _check(c, r, "r 混合", nb=64, md=256, bidirectional=False)


PROPERTIES = {
    "exact-buckets": exact_buckets,
    "sign": sign,
    "log-buckets": log_buckets,
    "unidirectional": unidirectional,
    "other-sizes": other_sizes,
}
