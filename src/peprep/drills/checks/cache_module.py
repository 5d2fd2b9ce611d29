"""Checks for `rope-cache-module`: a cos/sin cache that stays out of checkpoints and out of bf16.

Reference: `peprep.encodings.rope.cos_sin(angles(positions, inv_freq), "half")` with float64 angles.
"""

from __future__ import annotations

from typing import Callable

import torch

from peprep.drills.checks.base import Bug, Candidate, Fail, call_method, expect
from peprep.encodings.rope import cos_sin, inv_freq

PERSISTENT = Bug("persistent-buffer", "缓存出现在 state_dict 里：register_buffer 默认 persistent=True，cos/sin 会被写进 checkpoint，"
                 "换长度或换 base 后加载还会报形状不匹配。用 persistent=False 或普通属性。")
BF16_CAST = Bug("buffer-cast-to-bf16", "module.to(torch.bfloat16) 把频率（或 cos/sin 表）一起降成了 bf16：.to(dtype) 会转换所有浮点 buffer，"
                "包括 persistent=False 的。把频率存成普通属性，或每次用 float32/float64 重新计算。")
INTERLEAVED = Bug("interleaved-layout", "cos/sin 按交错布局铺开（repeat_interleave）：本题要求前后半布局 cat(freqs, freqs)。")

HEAD_DIM = 8


def _reference(positions: torch.Tensor, head_dim: int, layout: str = "half", freq_dtype=torch.float64):
    theta = inv_freq(head_dim).to(freq_dtype).double()
    return tuple(t.float() for t in cos_sin(positions.double()[..., None] * theta, layout))


def _variants(positions: torch.Tensor, head_dim: int, which: int) -> dict[Bug, Callable]:
    return {INTERLEAVED: lambda: _reference(positions, head_dim, "interleaved")[which],
            BF16_CAST: lambda: _reference(positions, head_dim, freq_dtype=torch.bfloat16)[which]}


def _build(c: Candidate, *args, label: str):
    c.case = label
    return c.call("RotaryCache", *args)


def _compare(c: Candidate, module, positions: torch.Tensor, head_dim: int, case: str, atol: float = 1e-6) -> None:
    c.case = case
    result = call_method(c, "调用 forward", module, positions)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise Fail(case, f"forward 应返回 (cos, sin)，实际返回 {type(result).__name__}")
    for which, (name, got) in enumerate(zip(("cos", "sin"), result)):
        expected = _reference(positions, head_dim)[which]
        expect(c, case, expected, got, atol=atol, name=name, variants=_variants(positions, head_dim, which))


def values(c: Candidate) -> None:
    module = _build(c, HEAD_DIM, label=f"RotaryCache({HEAD_DIM})")
    _compare(c, module, torch.arange(5), HEAD_DIM, f"RotaryCache({HEAD_DIM})，positions=arange(5)")
    module = _build(c, 2, label="RotaryCache(2)")
    _compare(c, module, torch.tensor([3]), 2, "RotaryCache(2)，positions=[3]")


def batched(c: Candidate) -> None:
    module = _build(c, HEAD_DIM, label=f"RotaryCache({HEAD_DIM})")
    positions = torch.tensor([[0, 0, 1, 2], [4, 5, 6, 7]])
    _compare(c, module, positions, HEAD_DIM, f"RotaryCache({HEAD_DIM})，positions={positions.tolist()}")


def beyond_cache(c: Candidate) -> None:
    module = _build(c, HEAD_DIM, 10000.0, 16, label=f"RotaryCache({HEAD_DIM}, 10000.0, max_position=16)")
    for positions in (torch.tensor([15, 16]), torch.tensor([47]), torch.tensor([3])):
        _compare(c, module, positions, HEAD_DIM,
                 f"RotaryCache({HEAD_DIM}, max_position=16)，positions={positions.tolist()}（超过 max_position 后再回来）",
                 atol=2e-6)


def state_dict(c: Candidate) -> None:
    module = _build(c, HEAD_DIM, label=f"RotaryCache({HEAD_DIM})")
    call_method(c, "调用 forward", module, torch.arange(4))
    keys = list(module.state_dict().keys())
    if keys:
        raise Fail(c.case, f"state_dict 应为空，实际有 {keys}", PERSISTENT)


def after_bf16_cast(c: Candidate) -> None:
    module = _build(c, 64, label="RotaryCache(64)")
    call_method(c, "调用 to(torch.bfloat16)", module.to, torch.bfloat16)
    positions = torch.tensor([8000, 8001])
    # float32 angles at 8000 are within ~5e-4 rad; bf16 frequencies are off by whole radians.
    _compare(c, module, positions, 64, "RotaryCache(64).to(torch.bfloat16)，positions=[8000, 8001]", atol=1e-3)


PROPERTIES = {
    "values": values,
    "batched": batched,
    "beyond-cache": beyond_cache,
    "state-dict": state_dict,
    "after-bf16-cast": after_bf16_cast,
}
