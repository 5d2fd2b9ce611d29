"""Checks for `position-ids`; reference: `peprep.encodings.position_ids`.

Only real tokens' positions are compared; pads may hold any valid index (0 ≤ id < T).
"""

from __future__ import annotations

from typing import Callable

import torch

from peprep.drills.checks.base import Bug, Candidate, Fail, expect, fmt
from peprep.encodings.position_ids import next_position_ids, position_ids_from_attention_mask

ARANGE = Bug("ignores-mask", "位置是 arange(T)，没看注意力掩码：左填充时真实词元被往后挪了“填充个数”位。")
NO_MINUS_ONE = Bug("cumsum-off-by-one", "cumsum 之后忘了减 1：真实词元从 1 开始编号，应从 0 开始。")
USES_T = Bug("next-is-T", "下一步的位置用了张量长度 T：对有填充的序列，应是真实词元的个数 mask.sum(-1)。")
LAST = Bug("next-is-last", "下一步的位置用了最后一个真实词元的位置：应再加 1（等于真实词元的个数）。")

MASKS = {
    "no-padding": [torch.ones(1, 1, dtype=torch.long), torch.ones(2, 5, dtype=torch.long)],
    "left-padding": [torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]])],
    "right-padding": [torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])],
}


def _position_variants(mask: torch.Tensor) -> dict[Bug, Callable]:
    """Known wrong answers, with pads taken from the reference (pads are not compared)."""
    t = mask.shape[-1]
    real, expected = mask.bool(), position_ids_from_attention_mask(mask)
    return {ARANGE: lambda: torch.where(real, torch.arange(t).expand_as(mask), expected),
            NO_MINUS_ONE: lambda: torch.where(real, mask.long().cumsum(-1), expected)}


def _check_positions(c: Candidate, mask: torch.Tensor) -> torch.Tensor:
    case = f"attention_mask={mask.tolist()}"
    c.case = case
    got = c.call("position_ids_from_mask", mask.clone())
    expected = position_ids_from_attention_mask(mask)
    real = mask.bool()
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and not got.is_floating_point():
        # compare real tokens only: copy the reference's pad entries into the candidate's answer
        got_real = torch.where(real, got.long(), expected)
    else:
        got_real = got
    expect(c, case, expected, got_real, atol=0, variants=_position_variants(mask), check_dtype=False)
    if got.dtype != torch.long:
        raise Fail(case, f"位置编号应为 long（int64，可以直接做 embedding 下标），实际是 {got.dtype}")
    return got


def no_padding(c: Candidate) -> None:
    for mask in MASKS["no-padding"]:
        _check_positions(c, mask)


def left_padding(c: Candidate) -> None:
    for mask in MASKS["left-padding"]:
        _check_positions(c, mask)


def right_padding(c: Candidate) -> None:
    for mask in MASKS["right-padding"]:
        _check_positions(c, mask)


def pads_valid(c: Candidate) -> None:
    for mask in [*MASKS["left-padding"], torch.tensor([[0, 0, 0], [0, 1, 1]])]:
        got = _check_positions(c, mask) if mask.sum(-1).min() > 0 else c.call("position_ids_from_mask", mask.clone())
        t = mask.shape[-1]
        pads = got[mask == 0]
        if pads.numel() and (pads.min() < 0 or pads.max() >= t):
            raise Fail(f"attention_mask={mask.tolist()}", f"填充位置的编号 {fmt(pads)} 不是合法下标（应在 0 … {t - 1}）："
                       "常见原因是 cumsum − 1 之后没有把填充处填成 0，留下了 −1（查可学习位置表时会越界或取到最后一行）。")


def next_step(c: Candidate) -> None:
    for mask in [torch.ones(1, 3, dtype=torch.long), *MASKS["left-padding"], torch.tensor([[0, 0, 0], [1, 1, 1]])]:
        case = f"attention_mask={mask.tolist()}"
        c.case = case
        got = c.call("next_position_ids", mask.clone())
        t = mask.shape[-1]
        expect(c, case, next_position_ids(mask), got, atol=0,
               variants={USES_T: lambda t=t, mask=mask: torch.full((mask.shape[0], 1), t),
                         LAST: lambda mask=mask: mask.long().sum(-1, keepdim=True) - 1})


PROPERTIES = {
    "no-padding": no_padding,
    "left-padding": left_padding,
    "right-padding": right_padding,
    "pads-valid": pads_valid,
    "next-step": next_step,
}
