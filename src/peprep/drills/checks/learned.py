"""Checks for the `learned-pe` drill: a trainable (max_len, d_model) table added at offset positions.

The table is random, so the reference is the candidate's own table: out must equal x + P[positions]
(`peprep.encodings.learned.learned_lookup`) for the parameter the candidate registered.
"""

from __future__ import annotations

import torch
from torch import nn

from peprep.drills.checks.base import Bug, Candidate, Fail, call_method, expect, expect_raises, randn
from peprep.encodings.learned import learned_lookup

BUFFER = Bug("register-buffer", "位置表注册成了 buffer（register_buffer）或普通张量：它不会被优化器更新。可学习位置嵌入必须是 nn.Parameter。")
NO_OFFSET = Bug("no-offset", "忽略了 offset：解码时新词元用的是位置 0, 1, …，而不是 offset, offset+1, …（KV 缓存里已有 offset 个词元）。")
OFF_BY_ONE = Bug("off-by-one", "位置多了 1：用了 P[offset+1 : offset+T+1]。")
PROMOTED = Bug("dtype-promotion", "bfloat16 输入被提升成了 float32：x + P 会按类型提升规则变成 float32，要先把 P 转成 x.dtype。")

MAX_LEN, D = 16, 8


def _module(c: Candidate) -> tuple[nn.Module, nn.Parameter]:
    c.case = f"LearnedPositionalEmbedding({MAX_LEN}, {D})"
    torch.manual_seed(c.seed)
    module = c.call("LearnedPositionalEmbedding", MAX_LEN, D)
    tables = [p for p in module.parameters() if tuple(p.shape) == (MAX_LEN, D)]
    if len(tables) != 1:
        buffers = [b for b in module.buffers() if tuple(b.shape) == (MAX_LEN, D)]
        plain = [v for v in vars(module).values() if isinstance(v, torch.Tensor) and tuple(v.shape) == (MAX_LEN, D)]
        shapes = [tuple(p.shape) for p in module.parameters()]
        raise Fail(c.case, f"应有恰好一个形状 ({MAX_LEN}, {D}) 的 nn.Parameter，实际参数形状为 {shapes}",
                   BUFFER if (buffers or plain) else None)
    return module, tables[0]


def _forward(c: Candidate, x: torch.Tensor, offset: int, case: str) -> None:
    module, table = _module(c)
    c.case = case
    got = _call_forward(c, module, x, offset)
    positions = torch.arange(offset, offset + x.shape[1])
    with torch.no_grad():
        expected = x + learned_lookup(table, positions).to(x.dtype)
        variants = {NO_OFFSET: lambda: x + table[: x.shape[1]].to(x.dtype),
                    OFF_BY_ONE: lambda: x + table[offset + 1: offset + 1 + x.shape[1]].to(x.dtype),
                    PROMOTED: lambda: x + table[positions]}
    atol = 1e-6 if x.dtype == torch.float32 else 2e-2
    expect(c, case, expected, got.detach() if isinstance(got, torch.Tensor) else got, atol=atol, variants=variants)


def _call_forward(c: Candidate, module: nn.Module, x: torch.Tensor, offset: int):
    return call_method(c, "调用 forward", lambda: module(x, offset=offset) if offset else module(x))


def parameter(c: Candidate) -> None:
    module, table = _module(c)
    if not table.requires_grad:
        raise Fail(c.case, "位置表的 requires_grad 是 False：它不会被训练", BUFFER)
    if not any(v is table for v in module.state_dict(keep_vars=True).values()):
        raise Fail(c.case, "位置表不在 state_dict 里：保存 checkpoint 时会丢失")


def forward(c: Candidate) -> None:
    for b, t in [(1, 1), (2, 5)]:
        _forward(c, randn(b, t, D, seed=c.seed + t), 0, f"x 形状 ({b}, {t}, {D})，offset=0")


def offset(c: Candidate) -> None:
    for t, off in [(1, 3), (4, 7), (1, MAX_LEN - 1)]:
        _forward(c, randn(2, t, D, seed=c.seed + off), off, f"x 形状 (2, {t}, {D})，offset={off}")


def full_length(c: Candidate) -> None:
    _forward(c, randn(1, MAX_LEN, D, seed=c.seed), 0, f"x 形状 (1, {MAX_LEN}, {D})，offset=0（恰好 max_len 个位置）")


def out_of_range(c: Candidate) -> None:
    for t, off in [(MAX_LEN + 1, 0), (2, MAX_LEN - 1), (1, MAX_LEN)]:
        module, _ = _module(c)
        x = randn(1, t, D, seed=c.seed)
        case = f"x 形状 (1, {t}, {D})，offset={off}（最后一个位置是 {off + t - 1}，max_len={MAX_LEN}）"
        expect_raises(c, case, lambda: module(x, offset=off), "调用 forward", (IndexError, ValueError), "位置越界")


def dtype(c: Candidate) -> None:
    _forward(c, randn(2, 3, D, seed=c.seed, dtype=torch.bfloat16), 2, f"x 形状 (2, 3, {D})、bfloat16，offset=2")


def gradient(c: Candidate) -> None:
    module, table = _module(c)
    x = randn(2, 3, D, seed=c.seed)
    c.case = f"x 形状 (2, 3, {D})，offset=5，loss = out.sum()"
    out = _call_forward(c, module, x, 5)
    out.sum().backward()
    expected = torch.zeros(MAX_LEN, D)
    expected[5:8] = 2.0  # each used row appears once per batch element
    if table.grad is None:
        raise Fail(c.case, "位置表没有得到梯度：输出没有经过这个参数（是否用了 .detach() 或别的张量？）")
    expect(c, c.case, expected, table.grad, atol=1e-6, name="P.grad")


PROPERTIES = {
    "parameter": parameter,
    "forward": forward,
    "offset": offset,
    "full-length": full_length,
    "out-of-range": out_of_range,
    "dtype": dtype,
    "gradient": gradient,
}
