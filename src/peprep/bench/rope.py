"""RoPE on q and k: peprep's fast path vs `transformers` vs `rotary-embedding-torch`, on CPU.

Competitors, each given precomputed tables for the same angles m·θ_j (float32, θ_j from float64), and
each in the layout it is written for (the two layouts are the same map up to a fixed permutation of
channels; the check below converts back before comparing):

- peprep: `rope_fast.apply_rotary_qk_` with a `RotaryTable`, rotating in place (interleaved layout),
  on its default backend: the compiled kernel where it builds, else blocked torch ops. The half-layout
  fast path and the torch-only backend are timed too and reported in the details.
- transformers: `models.llama.modeling_llama.apply_rotary_pos_emb(q, k, cos, sin)` with cos/sin
  (1, T, D) in q's dtype, as `LlamaRotaryEmbedding` returns them (half layout).
- rotary-embedding-torch: `apply_rotary_emb(freqs, t)` on q and on k, freqs (T, D) float32, as
  `RotaryEmbedding.rotate_queries_or_keys` calls it (interleaved layout).

Before any timing every competitor's output is compared with the readable reference
`peprep.encodings.rope.apply_rotary`; a mismatch beyond the dtype's tolerance stops the benchmark.
Achieved bandwidth counts the bytes of q and k read plus written (2 × their size), the same
accounting as the copy of two warm buffers of q+k's size that runs in the same interleaved rounds.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass

from peprep.bench.runner import Result, interleave, medians

SHAPES = ((1, 32, 4096, 128), (8, 32, 1024, 128), (1, 8, 16384, 64))
QUICK_SHAPES = ((1, 2, 64, 32),)
DTYPES = ("float32", "bfloat16")
# Largest |output − reference| / max|reference| accepted before timing: float32 round-off, or a few
# bfloat16 units in the last place (transformers does its arithmetic in bfloat16 with bfloat16 cos/sin).
TOLERANCE = {"float32": 1e-6, "bfloat16": 2**-6}
OURS, HALF = "peprep (fast, interleaved, in place)", "peprep (fast, half layout, in place)"
TORCH_PATH = "peprep (torch ops only, interleaved, in place)"
HF, RET, COPY = "transformers", "rotary-embedding-torch", "copy (warm buffers, q+k bytes)"


@dataclass
class Case:
    shape: tuple[int, int, int, int]
    dtype: str

    @property
    def label(self) -> str:
        return f"rope q,k {self.shape} {self.dtype}"


class MismatchError(AssertionError):
    """A competitor does not compute the reference's values: timing it would compare different work."""


def run(*, quick: bool = False, rounds: int = 7, max_seconds: float = 30.0) -> list[Result]:
    """Three results per case (ms, GB/s, % of copy bandwidth) for every shape × dtype."""
    shapes = QUICK_SHAPES if quick else SHAPES
    results: list[Result] = []
    for shape in shapes:
        for dtype in DTYPES:
            results += run_case(Case(shape, dtype), rounds=2 if quick else rounds, max_seconds=max_seconds)
    return results


def run_case(case: Case, *, rounds: int, max_seconds: float) -> list[Result]:
    fixture = _Fixture(case)
    errors = fixture.check()
    samples = interleave(fixture.competitors(), rounds=rounds, max_seconds=max_seconds)
    ms = {name: 1e3 * s for name, s in medians(samples).items()}
    gbps = {name: fixture.bytes_moved / (t / 1e3) / 1e9 for name, t in ms.items()}
    copy = gbps.pop(COPY)
    share = {name: 100 * v / copy for name, v in gbps.items()}
    details = {
        "case": case.label,
        "copy GB/s": copy,
        "half layout ms": ms[HALF],
        "half layout GB/s": gbps[HALF],
        "torch path ms": ms[TORCH_PATH],
        "backend": fixture.backend,
        "rounds": len(samples[OURS]),
        "max relative error vs reference": errors,
    }
    peers = (HF, RET)
    return [
        Result(case.label, "ms", ms[OURS], {p: ms[p] for p in peers}, details),
        Result(case.label + " bandwidth", "GB/s", gbps[OURS], {p: gbps[p] for p in peers}, details),
        Result(case.label + " share of copy bandwidth", "% of copy bandwidth", share[OURS],
               {p: share[p] for p in peers}, details),
    ]


class _Fixture:
    """Inputs in both layouts, the tables each competitor takes, and the reference output."""

    def __init__(self, case: Case):
        import torch

        from peprep.encodings.rope import angles, cos_sin, half_from_interleaved_index, inv_freq
        from peprep.encodings.rope_fast import RotaryTable, backend_in_use

        self.case = case
        self.dtype = getattr(torch, case.dtype)
        b, h, t, d = case.shape
        gen = torch.Generator().manual_seed(0)
        self.q_half = torch.randn(b, h, t, d, generator=gen).to(self.dtype)  # (B, H, T, D)
        self.k_half = torch.randn(b, h, t, d, generator=gen).to(self.dtype)
        self.to_interleaved = torch.argsort(half_from_interleaved_index(d))
        self.q_inter = self.q_half[..., self.to_interleaved].contiguous()
        self.k_inter = self.k_half[..., self.to_interleaved].contiguous()
        angle = angles(torch.arange(t), inv_freq(d))  # (T, D/2) float32
        self.cos_ref, self.sin_ref = cos_sin(angle, "half")  # (T, D) float32
        self.hf_cos, self.hf_sin = self.cos_ref[None].to(self.dtype), self.sin_ref[None].to(self.dtype)
        self.ret_freqs = angle.repeat_interleave(2, dim=-1)  # (T, D)
        self.table_inter = RotaryTable.from_angles(angle, "interleaved")
        self.table_half = RotaryTable.from_angles(angle, "half")
        self.bytes_moved = 2 * 2 * self.q_half.numel() * self.q_half.element_size()
        self.copy_src = torch.ones(2 * self.q_half.numel(), dtype=self.dtype)
        self.copy_dst = torch.zeros_like(self.copy_src)
        self.backend = backend_in_use(self.dtype)

    def competitors(self) -> dict:
        from rotary_embedding_torch import apply_rotary_emb
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        from peprep.encodings.rope_fast import apply_rotary_qk_

        # Ours rotates in place: its own copies, rotated again every round (a rotation keeps norms,
        # so values stay O(1) and no denormals appear).
        qi, ki, qt, kt = (t.clone() for t in (self.q_inter, self.k_inter, self.q_inter, self.k_inter))
        qh, kh = self.q_half.clone(), self.k_half.clone()
        return {
            COPY: lambda: self.copy_dst.copy_(self.copy_src),
            OURS: lambda: apply_rotary_qk_(qi, ki, self.table_inter),
            HALF: lambda: apply_rotary_qk_(qh, kh, self.table_half),
            TORCH_PATH: lambda: apply_rotary_qk_(qt, kt, self.table_inter, backend="torch"),
            HF: lambda: apply_rotary_pos_emb(self.q_half, self.k_half, self.hf_cos, self.hf_sin),
            RET: lambda: (apply_rotary_emb(self.ret_freqs, self.q_inter), apply_rotary_emb(self.ret_freqs, self.k_inter)),
        }

    def check(self) -> dict[str, float]:
        """Max relative error of each competitor against the readable reference; raises beyond tolerance."""
        import torch
        from rotary_embedding_torch import apply_rotary_emb
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        from peprep.encodings.rope import apply_rotary
        from peprep.encodings.rope_fast import apply_rotary_qk_

        ref_q = apply_rotary(self.q_half, self.cos_ref, self.sin_ref, layout="half")
        ref_k = apply_rotary(self.k_half, self.cos_ref, self.sin_ref, layout="half")
        back = torch.argsort(self.to_interleaved)  # interleaved -> half channel order
        outputs = {
            OURS: [t[..., back] for t in apply_rotary_qk_(self.q_inter.clone(), self.k_inter.clone(), self.table_inter)],
            HALF: apply_rotary_qk_(self.q_half.clone(), self.k_half.clone(), self.table_half),
            TORCH_PATH: [t[..., back] for t in apply_rotary_qk_(self.q_inter.clone(), self.k_inter.clone(),
                                                               self.table_inter, backend="torch")],
            HF: apply_rotary_pos_emb(self.q_half, self.k_half, self.hf_cos, self.hf_sin),
            RET: [apply_rotary_emb(self.ret_freqs, t)[..., back] for t in (self.q_inter, self.k_inter)],
        }
        errors = {}
        for name, (q, k) in outputs.items():
            err = max(_relative_error(q, ref_q), _relative_error(k, ref_k))
            errors[name] = err
            if q.dtype != self.dtype or not err <= TOLERANCE[self.case.dtype]:
                raise MismatchError(f"{name} on {self.case.label}: relative error {err:.3g} (dtype {q.dtype})")
        return errors


def _relative_error(out, ref) -> float:
    return float((out.double() - ref.double()).abs().max() / ref.double().abs().max())


def profile_peers(shape: tuple[int, int, int, int] = (1, 32, 4096, 128), dtype: str = "float32") -> dict[str, list[dict]]:
    """Where each competitor's time goes: per ATen op, calls, self CPU ms and MB freshly allocated.

    One call of each under torch.profiler (after a warm-up call), on one thread: the profiler records
    the ops of the calling thread, and the fast path would otherwise run half its blocks on another.
    The peers' tables show the full-size temporaries of `rotate_half` (neg, cat) and of x·cos + rot·sin.
    The compiled kernel is left out: it is one C loop, in which the profiler sees no ATen op.
    """
    import torch
    from torch.profiler import ProfilerActivity, profile

    fixture = _Fixture(Case(shape, dtype))
    report: dict[str, list[dict]] = {}
    threads = torch.get_num_threads()
    for name, call in fixture.competitors().items():
        if name == COPY or (name in (OURS, HALF) and fixture.backend.startswith("native")):
            continue
        torch.set_num_threads(1)
        try:
            call()
            with _quiet_native_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                call()
        finally:
            torch.set_num_threads(threads)
        rows = []
        for event in prof.key_averages():
            if event.self_cpu_time_total <= 0 and event.self_cpu_memory_usage <= 0:
                continue
            rows.append({
                "op": event.key,
                "calls": event.count,
                "self ms": event.self_cpu_time_total / 1e3,
                "allocated MB": max(0, event.self_cpu_memory_usage) / 2**20,
            })
        rows.sort(key=lambda r: -r["self ms"])
        report[name] = rows[:6]
    return report


@contextmanager
def _quiet_native_stderr():
    """Silence the profiler's native start/stop lines (kineto writes them to fd 2, not via Python)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
