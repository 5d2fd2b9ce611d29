"""Checks for the `sinusoidal` drill; reference: `peprep.encodings.sinusoidal.sinusoidal_encoding`."""

from __future__ import annotations

import torch

from peprep.drills.checks.base import Bug, Candidate, expect, expect_raises
from peprep.encodings.sinusoidal import sinusoidal_encoding

HALVES = Bug("halves-layout", "输出与“前后两半”排列一致（先全部 sin 再全部 cos）；本题要求交错排列 [sin, cos, sin, cos, …]。")
COS_FIRST = Bug("cos-first", "每对通道里 sin 和 cos 的顺序反了：第 2i 个通道应是 sin，第 2i+1 个应是 cos。")
EXPONENT = Bug("exponent-i-over-d", "频率写成了 base^(−i/d)：指数应是 −2i/d（i 是频率对的下标，不是通道下标）。")
T2T = Bug("t2t-spacing", "频率间距是 tensor2tensor 的 base^(−i/(d/2−1))；本题要求论文的 base^(−2i/d)。")
OFF_BY_ONE = Bug("off-by-one", "位置整体多了 1：位置 p 的编码用的是 p + 1（位置应从 0 开始，按传入的值）。")

TOL = 1e-5


def _variants(positions: torch.Tensor, d: int, base: float = 10000.0):
    def halves():
        return sinusoidal_encoding(positions.double(), d, base, layout="halves")

    def cos_first():
        pe = sinusoidal_encoding(positions.double(), d, base)
        return pe.reshape(*pe.shape[:-1], d // 2, 2).flip(-1).flatten(-2)

    def exponent():
        i = torch.arange(d // 2, dtype=torch.float64)
        a = positions.double()[..., None] * base ** (-i / d)
        return torch.stack((a.sin(), a.cos()), -1).flatten(-2)

    return {HALVES: halves, COS_FIRST: cos_first, EXPONENT: exponent,
            T2T: lambda: sinusoidal_encoding(positions.double(), d, base, spacing="t2t"),
            OFF_BY_ONE: lambda: sinusoidal_encoding(positions.double() + 1, d, base)}


def _check(c: Candidate, positions: torch.Tensor, d: int, case: str, atol: float = TOL) -> None:
    c.case = case
    got = c.call("sinusoidal_pe", positions, d)
    expected = sinusoidal_encoding(positions.double(), d).float()
    expect(c, case, expected, got, atol=atol, variants=_variants(positions, d))


def shape_dtype(c: Candidate) -> None:
    _check(c, torch.arange(3), 4, "positions=arange(3), d=4")


def values(c: Candidate) -> None:
    for t, d in [(1, 2), (4, 4), (7, 16), (50, 64)]:
        _check(c, torch.arange(t), d, f"positions=arange({t}), d={d}")


def any_shape(c: Candidate) -> None:
    cases = [
        (torch.tensor(5), 8, "标量位置 positions=tensor(5), d=8"),
        (torch.tensor([[0, 1, 2], [10, 11, 12]]), 6, "二维位置（第二行带偏移 10）, d=6"),
        (torch.tensor([0.5, 2.25, 7.0]), 8, "小数位置 [0.5, 2.25, 7.0], d=8"),
    ]
    for positions, d, case in cases:
        _check(c, positions, d, case)


def large_positions(c: Candidate) -> None:
    positions = torch.tensor([0, 4095, 4096, 65535, 100000])
    # float32 angles are allowed: p·ω carries about p·2^-23 of rounding, so the tolerance grows with p.
    _check(c, positions, 32, f"positions={positions.tolist()}, d=32", atol=TOL + 2e-7 * 100000)


def rejects_odd_d(c: Candidate) -> None:
    expect_raises(c, "positions=arange(3), d=5", lambda: c.module.sinusoidal_pe(torch.arange(3), 5),
                  "调用 sinusoidal_pe", (ValueError,), "d 为奇数")


PROPERTIES = {
    "shape-dtype": shape_dtype,
    "values": values,
    "any-shape": any_shape,
    "large-positions": large_positions,
    "rejects-odd-d": rejects_odd_d,
}
