"""Checks for `packed-positions`; reference: `peprep.encodings.position_ids` (packed helpers)."""

from __future__ import annotations

import torch

from peprep.drills.checks.base import Bug, Candidate, Fail, expect
from peprep.encodings.position_ids import cu_seqlens_from_position_ids, packed_causal_mask, packed_position_ids

CONTINUES = Bug("positions-continue", "位置没有在文档边界重置：第二篇文档接着第一篇编号。每篇文档都应从 0 开始。")
PLAIN_CAUSAL = Bug("plain-causal", "掩码只是普通的因果下三角：后面的文档仍能看到前面的文档。要再与“同一篇文档”相与（块对角）。")
BLOCK_ONLY = Bug("block-not-causal", "掩码是块对角的但块内不是因果的：同一篇文档里词元看到了自己之后的词元。")
NO_ZERO = Bug("cu-missing-zero", "cu_seqlens 缺了开头的 0：它应是 [0, n_1, n_1+n_2, …, N]，长度为文档数 + 1。")
NO_END = Bug("cu-missing-end", "cu_seqlens 缺了结尾的 N：最后一篇文档的终点也要写进去。")

CASES = [[5], [3, 2, 4], [1, 3, 1]]


def _label(seq_lens: list[int]) -> str:
    return f"seq_lens={seq_lens}"


def positions(c: Candidate) -> None:
    for seq_lens in CASES:
        c.case = _label(seq_lens)
        got = c.call("packed_position_ids", list(seq_lens))
        n = sum(seq_lens)
        expect(c, c.case, packed_position_ids(seq_lens), got, atol=0, check_dtype=False,
               variants={CONTINUES: lambda n=n: torch.arange(n)[None]})


def cu_seqlens(c: Candidate) -> None:
    for seq_lens in CASES:
        pos = packed_position_ids(seq_lens)
        c.case = f"position_ids={pos.tolist()}"
        got = c.call("cu_seqlens", pos.clone())
        expected = cu_seqlens_from_position_ids(pos)
        expect(c, c.case, expected, got, atol=0, check_dtype=False,
               variants={NO_ZERO: lambda e=expected: e[1:], NO_END: lambda e=expected: e[:-1]})
        if got.dtype != torch.int32:
            raise Fail(c.case, f"cu_seqlens 应为 int32（FlashAttention 的 varlen 接口要求），实际是 {got.dtype}")


def _check_mask(c: Candidate, seq_lens: list[int]) -> None:
    pos = packed_position_ids(seq_lens)
    n = pos.shape[-1]
    c.case = f"position_ids={pos.tolist()}"
    got = c.call("packed_causal_mask", pos.clone())
    expected = packed_causal_mask(pos)
    causal = torch.ones(n, n, dtype=torch.bool).tril()[None]
    expect(c, c.case, expected, got, atol=0, check_dtype=False,
           variants={PLAIN_CAUSAL: lambda: causal, BLOCK_ONLY: lambda: (expected | ~causal) & _same_doc(pos)})
    if got.dtype != torch.bool:
        raise Fail(c.case, f"掩码应为 bool（True = 可以注意），实际是 {got.dtype}")


def _same_doc(pos: torch.Tensor) -> torch.Tensor:
    doc = (pos.reshape(-1) == 0).long().cumsum(0)
    return (doc[:, None] == doc[None, :])[None]


def mask(c: Candidate) -> None:
    for seq_lens in CASES[:2]:
        _check_mask(c, seq_lens)


def single_tokens(c: Candidate) -> None:
    seq_lens = [1, 1, 2, 1]
    c.case = _label(seq_lens)
    got = c.call("packed_position_ids", list(seq_lens))
    expect(c, c.case, packed_position_ids(seq_lens), got, atol=0, check_dtype=False,
           variants={CONTINUES: lambda: torch.arange(5)[None]})
    _check_mask(c, seq_lens)
    pos = packed_position_ids(seq_lens)
    c.case = f"position_ids={pos.tolist()}"
    expect(c, c.case, cu_seqlens_from_position_ids(pos), c.call("cu_seqlens", pos.clone()), atol=0, check_dtype=False)


PROPERTIES = {"positions": positions, "cu-seqlens": cu_seqlens, "mask": mask, "single-tokens": single_tokens}
