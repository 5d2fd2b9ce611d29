"""Attention with positional biases: ALiBi and T5's bucketed bias, through torch SDPA or an explicit softmax.

For each bias and shape four competitors run interleaved:

- SDPA + bias: `torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)`, the bias
  built once beforehand (as the lab's model and T5 do: one bias per forward, shared by layers). ALiBi
  is causal, so its −inf mask is folded into the bias; T5 is bidirectional and unscaled (`scale=1.0`,
  T5 does not divide by √D). Passed as (1, H, T, T): torch 2.13 on CPU then runs its fused flash
  kernel. The same bias passed as (H, T, T) — equal by broadcasting — is timed too: it sends SDPA to
  the unfused math path (bmm, isneginf, softmax, where), found with torch.profiler.
- explicit softmax + bias: the readable reference, `peprep.encodings.alibi.alibi_attention` and
  `peprep.encodings.t5_bias.t5_attention` (logits materialised, masked, softmax, times v).
- the same two without the bias (SDPA with `is_causal` for ALiBi's causal case), to say what the bias
  costs on each path.

Outputs with the bias are checked equal (SDPA vs explicit) before timing.
"""

from __future__ import annotations

import math

from peprep.bench.runner import Result, interleave, medians

SHAPES = ((1, 8, 1024, 64), (4, 16, 256, 64))
QUICK_SHAPES = ((1, 2, 32, 16),)
SDPA, SDPA_3D = "SDPA + bias (1, H, T, T)", "SDPA + bias (H, T, T)"
EXPLICIT = "explicit softmax + bias (peprep reference)"
SDPA_NONE, EXPLICIT_NONE = "SDPA, no bias", "explicit softmax, no bias"
TOLERANCE = 1e-4


def run(*, quick: bool = False, rounds: int = 7, max_seconds: float = 12.0) -> list[Result]:
    results: list[Result] = []
    for shape in QUICK_SHAPES if quick else SHAPES:
        for kind in ("ALiBi", "T5"):
            results += run_case(kind, shape, rounds=2 if quick else rounds, max_seconds=max_seconds)
    return results


def run_case(kind: str, shape: tuple[int, int, int, int], *, rounds: int, max_seconds: float) -> list[Result]:
    import torch
    from torch.nn.functional import scaled_dot_product_attention as sdpa

    from peprep.encodings.alibi import alibi_attention, alibi_bias
    from peprep.encodings.attention import causal_mask, scaled_dot_product_attention
    from peprep.encodings.t5_bias import T5RelativeBias, t5_attention

    b, h, t, d = shape
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(b, h, t, d, generator=gen) for _ in range(3))
    if kind == "ALiBi":
        causal = True
        bias = alibi_bias(h, t).float().masked_fill(~causal_mask(t, t), float("-inf"))  # (H, T, T)
        competitors = {
            SDPA: lambda: sdpa(q, k, v, attn_mask=bias[None]),
            SDPA_3D: lambda: sdpa(q, k, v, attn_mask=bias),
            EXPLICIT: lambda: alibi_attention(q, k, v, causal=True),
            SDPA_NONE: lambda: sdpa(q, k, v, is_causal=True),
            EXPLICIT_NONE: lambda: scaled_dot_product_attention(q, k, v, causal=True),
        }
    elif kind == "T5":
        causal = False
        with torch.no_grad():
            bias = T5RelativeBias(h)(t)  # (H, T, T), bidirectional (encoder)
        competitors = {
            SDPA: lambda: sdpa(q, k, v, attn_mask=bias[None], scale=1.0),
            SDPA_3D: lambda: sdpa(q, k, v, attn_mask=bias, scale=1.0),
            EXPLICIT: lambda: t5_attention(q, k, v, bias),
            SDPA_NONE: lambda: sdpa(q, k, v, scale=1.0),
            EXPLICIT_NONE: lambda: scaled_dot_product_attention(q * math.sqrt(d), k, v),
        }
    else:
        raise ValueError(f"unknown bias {kind!r}")
    with torch.no_grad():
        reference = competitors[EXPLICIT]()
        error = max(float((competitors[n]() - reference).abs().max()) for n in (SDPA, SDPA_3D))
        if not error <= TOLERANCE:
            raise AssertionError(f"{kind} {shape}: SDPA and the explicit softmax differ by {error:.3g}")
        ms = {n: 1e3 * s for n, s in medians(interleave(competitors, rounds=rounds, max_seconds=max_seconds)).items()}
    label = f"attention + {kind} bias ({'causal' if causal else 'bidirectional'}) {shape} float32"
    details = {"max |SDPA − explicit|": error, **{f"{n} ms": v for n, v in ms.items()}}
    return [
        Result(label, "ms", ms[SDPA], {EXPLICIT: ms[EXPLICIT], SDPA_3D: ms[SDPA_3D]}, details),
        Result(label + ", cost of the bias", "× time without bias", ms[SDPA] / ms[SDPA_NONE],
               {"explicit softmax": ms[EXPLICIT] / ms[EXPLICIT_NONE]}, details),
    ]
