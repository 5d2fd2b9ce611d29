"""Checks for `rope-permute`; reference: `peprep.encodings.rope.permute_qk_weight(..., to="half")`.

The scores check is the point of the exercise: q = x W_q, k = x W_k rotated with interleaved RoPE
must give the same q·k as the permuted weights rotated with half-layout RoPE.
"""

from __future__ import annotations

from typing import Callable

import torch

from peprep.drills.checks.base import Bug, Candidate, expect, randn
from peprep.encodings.rope import half_from_interleaved_index, interleaved_from_half_index, permute_qk_weight, rope

GLOBAL = Bug("not-per-head", "把所有输出通道当成一个整体置换了：置换必须在每个头内部做（先按头切开，再在头内重排）。")
INVERSE = Bug("inverse-direction", "用了反方向的置换（前后半 → 交错）：新第 j 行应取旧第 2j 行。")
COLUMNS = Bug("permuted-columns", "置换了输入维（列）：要置换的是输出通道（nn.Linear 权重的行，第 0 维）。")


def _reference(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    if w.ndim == 1:
        return permute_qk_weight(w[:, None], n_heads, to="half")[:, 0]
    return permute_qk_weight(w, n_heads, to="half")


def _variants(w: torch.Tensor, n_heads: int) -> dict[Bug, Callable]:
    rows = w.shape[0]
    head_dim = rows // n_heads

    def per_head(idx):
        return w.reshape(n_heads, head_dim, *w.shape[1:])[:, idx].reshape(w.shape)

    return {GLOBAL: lambda: w[half_from_interleaved_index(rows)],
            INVERSE: lambda: per_head(interleaved_from_half_index(head_dim)),
            COLUMNS: lambda: w[:, half_from_interleaved_index(w.shape[1])]}


def _check(c: Candidate, w: torch.Tensor, n_heads: int, case: str) -> torch.Tensor:
    c.case = case
    got = c.call("permute_for_half", w.clone(), n_heads)
    expect(c, case, _reference(w, n_heads), got, atol=0.0, variants=_variants(w, n_heads))
    return got


def rows(c: Candidate) -> None:
    for n_heads, head_dim, cols in [(1, 2, 3), (1, 8, 4), (4, 8, 16)]:
        w = randn(n_heads * head_dim, cols, seed=c.seed + head_dim)
        _check(c, w, n_heads, f"w ({n_heads * head_dim}, {cols})，n_heads={n_heads}（D={head_dim}）")


def gqa_and_bias(c: Candidate) -> None:
    w_k = randn(2 * 8, 32, seed=c.seed)
    _check(c, w_k, 2, "W_k (16, 32)，n_heads=2（GQA：4 个查询头共用 2 个键值头，D=8）")
    bias = randn(4 * 8, seed=c.seed + 1)
    _check(c, bias, 4, "偏置向量 (32,)，n_heads=4（D=8）")


def scores(c: Candidate) -> None:
    n_heads, head_dim, cols, t = 2, 8, 16, 5
    w_q, w_k = randn(n_heads * head_dim, cols, seed=c.seed), randn(n_heads * head_dim, cols, seed=c.seed + 1)
    x = randn(t, cols, seed=c.seed + 2)
    case = f"W_q、W_k ({n_heads * head_dim}, {cols})，n_heads={n_heads}，x ({t}, {cols})：比较 q·k 分数"
    c.case = case
    new_q, new_k = c.call("permute_for_half", w_q.clone(), n_heads), c.call("permute_for_half", w_k.clone(), n_heads)
    pos = torch.arange(t)

    def qk(wq, wk, layout):
        q = (x @ wq.T).reshape(t, n_heads, head_dim).transpose(0, 1)  # (H, T, D)
        k = (x @ wk.T).reshape(t, n_heads, head_dim).transpose(0, 1)
        return rope(q, pos, layout=layout) @ rope(k, pos, layout=layout).transpose(-2, -1)

    expected = qk(w_q, w_k, "interleaved")
    expect(c, case, expected, qk(new_q, new_k, "half"), atol=1e-4, name="分数")


PROPERTIES = {"rows": rows, "gqa-and-bias": gqa_and_bias, "scores": scores}
