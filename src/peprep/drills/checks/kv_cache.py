"""Checks for `rope-kv-cache`: one attention call with a KV cache must equal rows of the full pass.

Reference: rotate the whole sequence with `peprep.encodings.rope.rope` (half layout), run causal
`peprep.encodings.attention.scaled_dot_product_attention`, and slice. Inputs are float32 and the check
compares them within float32 rounding (a correct candidate computes its angles in float32).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from peprep.drills.checks.base import Bug, Candidate, Fail, expect, randn
from peprep.encodings.attention import scaled_dot_product_attention
from peprep.encodings.rope import rope

NO_OFFSET = Bug("no-offset", "新词元的位置从 0 开始了：忘了加上缓存长度 P。位置应是 P, P+1, …, P+T−1。")
OFF_BY_ONE = Bug("off-by-one", "新词元的位置差了 1（用了 P+1 起算）：缓存里有 P 个词元，位置 0 … P−1，新词元从 P 开始。")
ROTATE_V = Bug("rotate-v", "把 v 也旋转了：RoPE 只作用在 q 和 k 上，值向量保持原样（缓存的也是原样的值）。")
TOP_LEFT = Bug("causal-top-left", "因果掩码对齐到了左上角（torch 的 is_causal=True 在 T_q ≠ T_k 时就是这样）：新词元应能看到全部缓存。"
               "用右下角对齐的掩码：tril(ones(T, P+T), diagonal=P)，或 torch.nn.attention.bias.causal_lower_right。")
NO_MASK = Bug("no-causal-mask", "新词元之间没有因果掩码：预填充时词元看到了自己之后的词元。")
INTERLEAVED = Bug("interleaved-layout", "用了交错布局（(2i, 2i+1) 成对）：本题要求前后半布局（(i, i+D/2) 成对）。")
RAW_KEYS = Bug("cache-not-rotated", "缓存里存的是未旋转的键：约定是缓存旋转后的键，之后不再改动。")


def _full(q, k, v):
    """Causal attention over the whole sequence, RoPE (half layout) at positions 0, 1, …; and the rotated keys."""
    pos = torch.arange(q.shape[2])
    qr, kr = rope(q, pos, layout="half"), rope(k, pos, layout="half")
    return scaled_dot_product_attention(qr, kr, v, causal=True), kr


def _step_reference(q, k, v, past: int, *, new_shift: int = 0, layout="half", rotate_v=False, mask="bottom-right"):
    """What a step returns when its new tokens sit at positions past+new_shift+…; caches from the true prefix."""
    kr_past = rope(k[:, :, :past], torch.arange(past), layout=layout)
    pos = torch.arange(past, q.shape[2]) + new_shift
    qn, kn = rope(q[:, :, past:], pos, layout=layout), rope(k[:, :, past:], pos, layout=layout)
    vn = rope(v[:, :, past:], pos, layout=layout) if rotate_v else v[:, :, past:]
    keys = torch.cat((kr_past, kn), 2)
    values = torch.cat((v[:, :, :past], vn), 2)  # the cache a step receives holds raw values
    t, total = q.shape[2] - past, q.shape[2]
    scores = qn @ keys.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask == "bottom-right":
        allowed = torch.ones(t, total, dtype=torch.bool).tril(diagonal=past)
    elif mask == "top-left":
        allowed = torch.ones(t, total, dtype=torch.bool).tril()
    else:
        allowed = torch.ones(t, total, dtype=torch.bool)
    return scores.masked_fill(~allowed, float("-inf")).softmax(-1) @ values


def _variants(q, k, v, past) -> dict[Bug, Callable]:
    return {
        NO_OFFSET: lambda: _step_reference(q, k, v, past, new_shift=-past),
        OFF_BY_ONE: lambda: _step_reference(q, k, v, past, new_shift=1),
        ROTATE_V: lambda: _step_reference(q, k, v, past, rotate_v=True),
        TOP_LEFT: lambda: _step_reference(q, k, v, past, mask="top-left"),
        NO_MASK: lambda: _step_reference(q, k, v, past, mask="none"),
        INTERLEAVED: lambda: _step_reference(q, k, v, past, layout="interleaved"),
    }


def _inputs(c: Candidate, b: int, h: int, n: int, d: int, salt: int):
    return (randn(b, h, n, d, seed=c.seed + salt), randn(b, h, n, d, seed=c.seed + salt + 1),
            randn(b, h, n, d, seed=c.seed + salt + 2))


def _step(c: Candidate, q, k, v, past: int, case: str, caches=None):
    """Call the candidate for the tokens after `past`; caches default to the reference's (rotated keys, raw values)."""
    if caches is None:
        caches = (rope(k[:, :, :past], torch.arange(past), layout="half"), v[:, :, :past].clone())
    c.case = case
    result = c.call("rope_attention_step", q[:, :, past:].clone(), k[:, :, past:].clone(), v[:, :, past:].clone(),
                    caches[0].clone(), caches[1].clone())
    if not (isinstance(result, tuple) and len(result) == 3):
        raise Fail(case, f"应返回 (out, k_cache, v_cache) 三元组，实际返回 {type(result).__name__}")
    return result


def _check_step(c: Candidate, b, h, past, t, d, case, salt=0):
    q, k, v = _inputs(c, b, h, past + t, d, salt)
    out, _, _ = _step(c, q, k, v, past, case)
    expected, _ = _full(q, k, v)
    expect(c, case, expected[:, :, past:], out, atol=1e-5, name="out", variants=_variants(q, k, v, past),
           check_dtype=False)


def prefill(c: Candidate) -> None:
    for b, h, t, d in [(1, 1, 1, 2), (1, 1, 4, 8), (2, 3, 5, 8)]:
        _check_step(c, b, h, 0, t, d, f"P=0（预填充），q/k/v ({b}, {h}, {t}, {d})")


def cache_contents(c: Candidate) -> None:
    q, k, v = _inputs(c, 2, 2, 7, 8, 10)
    case = "P=4，T=3，q/k/v (2, 2, 3, 8)：检查返回的缓存"
    _, k_cache, v_cache = _step(c, q, k, v, 4, case)  # the given cache holds the first 4 tokens
    _, rotated_keys = _full(q, k, v)
    past = 4

    def keys(new_positions: torch.Tensor, layout: str = "half") -> torch.Tensor:
        return torch.cat((rotated_keys[:, :, :past], rope(k[:, :, past:], new_positions, layout=layout)), 2)

    expect(c, case, rotated_keys, k_cache, atol=1e-5, name="k_cache", check_dtype=False,
           variants={RAW_KEYS: lambda: torch.cat((rotated_keys[:, :, :past], k[:, :, past:]), 2),
                     NO_OFFSET: lambda: keys(torch.arange(3)), OFF_BY_ONE: lambda: keys(torch.arange(5, 8)),
                     INTERLEAVED: lambda: keys(torch.arange(4, 7), "interleaved")})
    expect(c, case, v, v_cache, atol=1e-6, name="v_cache", check_dtype=False,
           variants={ROTATE_V: lambda: torch.cat((v[:, :, :past], rope(v[:, :, past:], torch.arange(4, 7), layout="half")), 2)})


def decode(c: Candidate) -> None:
    for past, d in [(1, 4), (6, 8)]:
        _check_step(c, 1, 2, past, 1, d, f"P={past}，T=1（单步解码），q/k/v (1, 2, 1, {d})", salt=past)


def chunked_prefill(c: Candidate) -> None:
    _check_step(c, 1, 2, 5, 3, 8, "P=5，T=3（分块预填充），q/k/v (1, 2, 3, 8)", salt=20)


def step_by_step(c: Candidate) -> None:
    q, k, v = _inputs(c, 1, 2, 8, 8, 30)
    expected, _ = _full(q, k, v)
    caches = (k[:, :, :0], v[:, :, :0])
    out, kc, vc = _step(c, q[:, :, :3], k[:, :, :3], v[:, :, :3], 0, "预填充 3 个词元", caches)
    for past in range(3, 8):
        case = f"预填充 3 个词元后，用返回的缓存逐个解码到第 {past + 1} 个词元"
        out, kc, vc = _step(c, q[:, :, :past + 1], k[:, :, :past + 1], v[:, :, :past + 1], past, case, (kc, vc))
        expect(c, case, expected[:, :, past:past + 1], out, atol=1e-5, name="out", check_dtype=False)


def long_cache(c: Candidate) -> None:
    past, d = 5000, 8
    q, k, v = _inputs(c, 1, 1, past + 1, d, 40)
    case = f"P={past}，T=1：位置 {past} 超过常见的预计算长度"
    out, _, _ = _step(c, q, k, v, past, case)
    expected = _step_reference(q, k, v, past)
    # float32 angles at position 5000 carry ~5000·2^-23 rad of error; the attention averages it down.
    expect(c, case, expected, out, atol=2e-3, name="out", variants=_variants(q, k, v, past), check_dtype=False)


PROPERTIES = {
    "prefill": prefill,
    "cache-contents": cache_contents,
    "decode": decode,
    "chunked-prefill": chunked_prefill,
    "step-by-step": step_by_step,
    "long-cache": long_cache,
}
