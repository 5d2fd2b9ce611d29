"""Checks shared by `rope-interleaved` and `rope-half`; reference: `peprep.encodings.rope`.

The reference computes angles in float64 for float32/float64 inputs (tolerances then allow the
candidate's float32 angles: about p·2^-23 rad at position p) and, for bfloat16 inputs, exactly what
a correct implementation does: float32 angles, rotation in float32, one rounding to bfloat16.
"""

from __future__ import annotations

from typing import Callable

import torch

from peprep.drills.checks.base import Bug, Candidate, expect, randn
from peprep.encodings.rope import apply_rotary, cos_sin, inv_freq

LAYOUT_NAMES = {"interleaved": "交错布局（(2i, 2i+1) 成对）", "half": "前后半布局（(i, i+D/2) 成对）"}
OTHER = {"interleaved": "half", "half": "interleaved"}


def bugs(layout: str) -> dict[str, Bug]:
    other = OTHER[layout]
    return {
        "layout": Bug(f"{other}-layout", f"输出与{LAYOUT_NAMES[other]}的 RoPE 一致：本题要求{LAYOUT_NAMES[layout]}。"),
        "sign": Bug("wrong-direction", "旋转方向反了（转了 −mθ）：检查 rotate 里负号放在哪一半、sin 项的符号。"),
        "identity": Bug("positions-ignored", "输出等于输入：没有按位置旋转（位置被忽略，或全部当成 0）。"),
        "off-by-one": Bug("off-by-one", "位置多了 1：位置 m 的词元被旋转了 (m+1)θ。"),
        "bf16": Bug("angles-in-bf16", "角度在 bfloat16 中计算：bf16 只有 8 位有效位，257 以上的整数位置都不精确，位置 8000 附近角度误差可达数弧度。"
                    "把位置和 θ 转成 float32 再相乘，最后才转回 x 的 dtype。"),
        "exponent": Bug("exponent-i-over-d", "频率写成了 base^(−i/D)：应是 base^(−2i/D)（i 是频率对的下标）。"),
    }


def reference(x: torch.Tensor, positions: torch.Tensor, layout: str, *, base: float = 10000.0,
              angle_dtype: torch.dtype | None = None, sign: float = 1.0, freq: torch.Tensor | None = None) -> torch.Tensor:
    """RoPE of x at positions; angles in float64 unless `angle_dtype` (float32 / bfloat16) says otherwise."""
    d = x.shape[-1]
    theta = inv_freq(d, base) if freq is None else freq
    if angle_dtype is None:
        ang = positions.double()[..., None] * theta  # (…, T, D/2) float64
    else:
        ang = (positions.to(angle_dtype)[..., None] * theta.to(angle_dtype)).to(torch.float32)
    cos, sin = cos_sin(sign * ang, layout)
    work = torch.float64 if x.dtype == torch.float64 or angle_dtype is None and x.dtype == torch.float32 else torch.float32
    out = apply_rotary(x.to(work), cos.to(work), sin.to(work), layout=layout)
    return out.to(x.dtype)


def variants(x: torch.Tensor, positions: torch.Tensor, layout: str) -> dict[Bug, Callable]:
    b = bugs(layout)
    d = x.shape[-1]
    slow = 10000.0 ** (-torch.arange(d // 2, dtype=torch.float64) / d)
    return {
        b["layout"]: lambda: reference(x, positions, OTHER[layout]),
        b["sign"]: lambda: reference(x, positions, layout, sign=-1.0),
        b["identity"]: lambda: x.clone(),
        b["off-by-one"]: lambda: reference(x, positions + 1, layout),
        b["bf16"]: lambda: reference(x, positions, layout, angle_dtype=torch.bfloat16),
        b["exponent"]: lambda: reference(x, positions, layout, freq=slow),
    }


def make_properties(layout: str) -> dict[str, Callable[[Candidate], None]]:
    def check(c: Candidate, x: torch.Tensor, positions: torch.Tensor, case: str, *, atol: float) -> None:
        c.case = case
        got = c.call("apply_rope", x, positions)
        if x.dtype == torch.bfloat16:
            expected = reference(x, positions, layout, angle_dtype=torch.float32)
        else:
            expected = reference(x, positions, layout)
        expect(c, case, expected, got, atol=atol, variants=variants(x, positions, layout))

    def shape_dtype(c: Candidate) -> None:
        check(c, randn(1, 1, 3, 4, seed=c.seed), torch.arange(3), "x (1, 1, 3, 4) float32，positions=arange(3)", atol=1e-5)

    def values(c: Candidate) -> None:
        for k, (b, h, t, d) in enumerate([(1, 1, 4, 2), (1, 1, 1, 8), (2, 3, 5, 8), (1, 2, 7, 64)]):
            check(c, randn(b, h, t, d, seed=c.seed + k), torch.arange(t), f"x ({b}, {h}, {t}, {d})，positions=arange({t})",
                  atol=1e-5)

    def batched_positions(c: Candidate) -> None:
        cases = [
            (torch.tensor([[0, 1, 2, 3], [3, 4, 5, 6]]), "positions=[[0,1,2,3],[3,4,5,6]]（第二条带偏移）"),
            (torch.tensor([[0, 0, 0, 1], [0, 1, 2, 3]]), "positions=[[0,0,0,1],[0,1,2,3]]（左填充）"),
            (torch.tensor([[137], [5]]), "positions=[[137],[5]]（KV 缓存解码，每条序列的偏移不同）"),
        ]
        for k, (positions, label) in enumerate(cases):
            b, t = positions.shape
            check(c, randn(b, 2, t, 8, seed=c.seed + k), positions, f"x ({b}, 2, {t}, 8)，{label}", atol=1e-5)

    def large_positions(c: Candidate) -> None:
        positions = torch.tensor([0, 4096, 8191, 32768, 100000])
        x = randn(1, 2, 5, 16, seed=c.seed)
        atol = (1e-5 + 3e-7 * 100000) * float(x.abs().max())  # float32 angles: error grows like p·2^-23
        check(c, x, positions, f"x (1, 2, 5, 16)，positions={positions.tolist()}", atol=atol)

    def bf16(c: Candidate) -> None:
        positions = torch.arange(8000, 8006)
        x = randn(1, 2, 6, 32, seed=c.seed, dtype=torch.bfloat16)
        atol = 0.04 * max(1.0, float(x.float().abs().max()))  # a few bf16 roundings of |x|
        check(c, x, positions, "x (1, 2, 6, 32) bfloat16，positions=8000…8005", atol=atol)

    def float64(c: Candidate) -> None:
        check(c, randn(1, 1, 3, 8, seed=c.seed, dtype=torch.float64), torch.arange(3),
              "x (1, 1, 3, 8) float64，positions=arange(3)", atol=1e-5)

    return {
        "shape-dtype": shape_dtype,
        "values": values,
        "batched-positions": batched_positions,
        "large-positions": large_positions,
        "bf16": bf16,
        "float64": float64,
    }
