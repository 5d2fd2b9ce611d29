"""Checks for the `alibi` drill; reference: `peprep.encodings.alibi.alibi_slopes` and `alibi_bias`.

A bias is right when, on the entries the causal mask keeps (key j at or before the query's absolute
position), it differs from −m·(i − j) by a constant per row: softmax cannot tell the difference, so
Bloom's m·j and MPT's m·(j − (T−1)) pass too, and so does −m·(i − j) with the queries numbered from 0
under a cache (a constant shift per row). Entries above the diagonal are not compared.
"""

from __future__ import annotations

from typing import Callable

import torch

from peprep.drills.checks.base import Bug, Candidate, Fail, expect
from peprep.encodings.alibi import alibi_bias, alibi_slopes

NAIVE = Bug("naive-geometric", "头数不是 2 的幂时直接用了 2^(−8h/n)：官方规则是先取最近的较小 2 的幂 c 的斜率，"
            "再从 2c 个头的斜率里隔一个取，补足 n − c 个。")
HALVES = Bug("powers-of-half", "斜率写成了 1/2, 1/4, 1/8, …（与头数无关）：起点和公比都应是 2^(−8/n)。")
REVERSED = Bug("reversed", "斜率顺序反了：第 1 个头的斜率最大（2^(−8/n)），依次减小。")
SIGN = Bug("wrong-sign", "偏置的符号反了：应减去 m·(i − j)（越远惩罚越大），而不是加上。")
TOP_LEFT = Bug("query-top-left", "KV 缓存时把查询当成了前 t_q 个位置，又用了对称的 −m·|i − j|：查询是 t_k 个位置中的最后 t_q 个"
               "（第 i 个查询的位置是 i + t_k − t_q）。线性形式 −m·(i − j) 对整行平移不敏感，对称形式就不行了。")


def _slope_variants(n: int) -> dict[Bug, Callable]:
    h = torch.arange(1, n + 1, dtype=torch.float64)
    return {NAIVE: lambda: 2.0 ** (-8.0 * h / n), HALVES: lambda: 0.5**h, REVERSED: lambda: alibi_slopes(n).flip(0)}


def _check_slopes(c: Candidate, n: int) -> None:
    case = f"alibi_slopes({n})"
    c.case = case
    got = c.call("alibi_slopes", n)
    if isinstance(got, torch.Tensor) and got.is_floating_point():
        got = got.double()  # any float dtype is fine; values are compared in float64
    expect(c, case, alibi_slopes(n), got, atol=1e-6, rtol=1e-5, variants=_slope_variants(n), check_dtype=False)


def slopes_power_of_two(c: Candidate) -> None:
    for n in (1, 2, 4, 8, 16, 32):
        _check_slopes(c, n)


def slopes_other(c: Candidate) -> None:
    for n in (3, 6, 12, 20, 40):
        _check_slopes(c, n)


def _check_bias(c: Candidate, n: int, t_q: int, t_k: int) -> None:
    case = f"alibi_bias({n}, t_q={t_q}, t_k={t_k})"
    c.case = case
    got = c.call("alibi_bias", n, t_q, t_k)
    expected = alibi_bias(n, t_q, t_k)
    if not isinstance(got, torch.Tensor) or not got.is_floating_point():
        raise Fail(case, f"应返回浮点张量，实际是 {got.dtype if isinstance(got, torch.Tensor) else type(got).__name__}")
    if tuple(got.shape) != tuple(expected.shape):
        raise Fail(case, f"形状应为 {tuple(expected.shape)}（n_heads, t_q, t_k），实际是 {tuple(got.shape)}")
    allowed = torch.ones(t_q, t_k, dtype=torch.bool).tril(diagonal=t_k - t_q)  # (T_q, T_k)
    diff = (got.double() - expected).masked_fill(~allowed, 0.0)
    row_constant = diff[..., t_k - t_q:].diagonal(dim1=-2, dim2=-1)[..., :, None]  # the j = i entry of each row
    residual = (diff - row_constant).masked_fill(~allowed, 0.0)
    bad = ~(residual.abs() <= 1e-4)  # NaN counts as bad
    if bad.any():
        variants = {  # top-left first: for one query it also equals the flipped sign up to a constant
            TOP_LEFT: lambda: _top_left(n, t_q, t_k),
            SIGN: lambda: -expected,
        }
        idx = tuple(int(i) for i in bad.nonzero()[0])
        raise Fail(case, f"在因果掩码允许的元素上，偏置与 −m·(i − j) 不是逐行只差一个常数：头 {idx[0]}、查询 {idx[1]}、"
                         f"键 {idx[2]} 处偏差 {residual[idx].item():.4g}（参考值 {expected[idx].item():.4g}，"
                         f"实际 {got[idx].item():.4g}）", _which(got, variants, allowed, t_q, t_k))


def _top_left(n: int, t_q: int, t_k: int) -> torch.Tensor:
    """The symmetric bias with queries at positions 0 … t_q − 1 (a shift of −m·(i − j) would be harmless)."""
    m = alibi_slopes(n)[:, None, None]
    i = torch.arange(t_q, dtype=torch.float64)[:, None]
    j = torch.arange(t_k, dtype=torch.float64)[None, :]
    return -m * (i - j).abs()


def _which(got: torch.Tensor, variants: dict[Bug, Callable], allowed: torch.Tensor, t_q: int, t_k: int) -> Bug | None:
    """Like base.which_bug, but compares only the kept entries, up to a constant per row."""
    for bug, make in variants.items():
        value = make()
        diff = (got.double() - value).masked_fill(~allowed, 0.0)
        diag = diff[..., t_k - t_q:].diagonal(dim1=-2, dim2=-1)[..., :, None]
        if bool((((diff - diag).masked_fill(~allowed, 0.0)).abs() <= 1e-4).all()):
            return bug
    return None


def bias_square(c: Candidate) -> None:
    for n, t in [(1, 1), (2, 3), (8, 6), (12, 5)]:
        _check_bias(c, n, t, t)


def bias_cache(c: Candidate) -> None:
    for n, t_q, t_k in [(8, 3, 10), (4, 1, 5)]:  # t_q = 3 first: it tells a flipped sign from a top-left query
        _check_bias(c, n, t_q, t_k)


PROPERTIES = {
    "slopes-power-of-two": slopes_power_of_two,
    "slopes-other": slopes_other,
    "bias-square": bias_square,
    "bias-cache": bias_cache,
}
