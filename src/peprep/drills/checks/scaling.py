"""Checks for `rope-scaling`; reference: `peprep.encodings.rope_scaling` (PI, NTK-aware, YaRN, official ramp)."""

from __future__ import annotations

import math
from typing import Callable

import torch

from peprep.drills.checks.base import Bug, Candidate, Fail, expect
from peprep.encodings.rope import inv_freq as default_inv_freq
from peprep.encodings.rope_scaling import (LinearScaling, NTKAwareScaling, YarnScaling, linear_frequencies,
                                           ntk_frequencies, yarn_frequencies)

PI_TIMES = Bug("pi-multiplied", "频率乘了 s：内插要让角度变慢，θ_i / s（等价于位置 m / s）。")
NTK_PLAIN = Bug("ntk-base-times-s", "底数直接乘了 s（base·s）：NTK-aware 用 base·s^(d/(d−2))，这样最低频恰好除以 s。")
NTK_DIVIDE = Bug("ntk-divides-all", "所有频率都除以了 s：那是线性内插（PI），NTK-aware 只改底数，最高频不变。")
RATIO_RAMP = Bug("ratio-ramp", "ramp 按 r = L/λ 线性（论文式 (18) 的写法）：本题要求官方代码与 transformers 的写法——按频率对下标 i 线性，端点取 floor/ceil。")
NO_TRUNCATE = Bug("no-floor-ceil", "ramp 的端点没有 floor/ceil：官方代码把 low 向下取整、high 向上取整（transformers 的 truncate=True）。")
REVERSED = Bug("ramp-reversed", "ramp 方向反了：高频（i 小、r > β）应保留原频率，低频（r < α）才完全内插。")
MSCALE = Bug("attention-factor", "attention_factor 不对：YaRN 的温度是 √(1/t) = 0.1·ln s + 1（乘在 cos 和 sin 上）。")

RTOL = 1e-5  # float32 frequencies are fine


def _yarn(dim, base, s, length, **kw):
    return yarn_frequencies(YarnScaling(factor=s, original_max_position_embeddings=length, base=base, **kw), dim)


def _check_freq(c: Candidate, name: str, args: tuple, expected: torch.Tensor, case: str, variants=None) -> None:
    c.case = case
    got = c.call(name, *args)
    if isinstance(got, torch.Tensor) and got.is_floating_point():
        got = got.double()
    expect(c, case, expected, got, atol=0.0, rtol=RTOL, variants=variants or {}, check_dtype=False)


def linear(c: Candidate) -> None:
    for dim, base, s in [(2, 10000.0, 2.0), (64, 10000.0, 4.0)]:
        expected, _ = linear_frequencies(LinearScaling(factor=s, base=base), dim)
        _check_freq(c, "linear_inv_freq", (dim, base, s), expected, f"linear_inv_freq({dim}, {base:g}, {s:g})",
                    {PI_TIMES: lambda dim=dim, base=base, s=s: default_inv_freq(dim, base) * s})


def ntk(c: Candidate) -> None:
    for dim, base, s in [(4, 10000.0, 2.0), (128, 10000.0, 4.0), (64, 500000.0, 8.0)]:
        expected, _ = ntk_frequencies(NTKAwareScaling(factor=s, base=base), dim)
        _check_freq(c, "ntk_inv_freq", (dim, base, s), expected, f"ntk_inv_freq({dim}, {base:g}, {s:g})",
                    {NTK_PLAIN: lambda dim=dim, base=base, s=s: default_inv_freq(dim, base * s),
                     NTK_DIVIDE: lambda dim=dim, base=base, s=s: default_inv_freq(dim, base) / s})


def _check_yarn(c: Candidate, dim: int, base: float, s: float, length: int, **betas) -> None:
    case = f"yarn_inv_freq({dim}, {base:g}, {s:g}, {length}{''.join(f', {k}={v:g}' for k, v in betas.items())})"
    c.case = case
    got = c.call("yarn_inv_freq", dim, base, s, length, **betas)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise Fail(case, f"应返回 (inv_freq, attention_factor)，实际返回 {type(got).__name__}")
    freq, factor = got
    expected, expected_factor = _yarn(dim, base, s, length, **betas)
    theta = default_inv_freq(dim, base)
    i = torch.arange(dim // 2, dtype=torch.float64)

    def reversed_ramp() -> torch.Tensor:
        gamma = (expected - theta / s) / (theta - theta / s)
        return gamma * theta / s + (1 - gamma) * theta

    variants: dict[Bug, Callable] = {
        RATIO_RAMP: lambda: _yarn(dim, base, s, length, ramp="ratio", **betas)[0],
        NO_TRUNCATE: lambda: _yarn(dim, base, s, length, truncate=False, **betas)[0],
        REVERSED: reversed_ramp,
        NTK_DIVIDE: lambda: theta / s + 0 * i,
    }
    if isinstance(freq, torch.Tensor) and freq.is_floating_point():
        freq = freq.double()
    expect(c, case, expected, freq, atol=0.0, rtol=RTOL, name="inv_freq", variants=variants, check_dtype=False)
    if not isinstance(factor, (int, float, torch.Tensor)) or not math.isclose(float(factor), expected_factor, rel_tol=1e-6):
        raise Fail(case, f"attention_factor 应为 {expected_factor:.6g}（0.1·ln s + 1），实际是 {factor!r}", MSCALE)


def yarn(c: Candidate) -> None:
    _check_yarn(c, 128, 10000.0, 4.0, 4096)
    _check_yarn(c, 64, 500000.0, 8.0, 8192)


def yarn_edge_cases(c: Candidate) -> None:
    _check_yarn(c, 128, 10000.0, 1.0, 4096)  # s = 1: nothing changes, factor 1
    _check_yarn(c, 16, 10000.0, 2.0, 2048)  # a tiny head
    _check_yarn(c, 128, 1000000.0, 4.0, 32768, beta_fast=16.0, beta_slow=2.0)


PROPERTIES = {"linear": linear, "ntk": ntk, "yarn": yarn, "yarn-edge-cases": yarn_edge_cases}
