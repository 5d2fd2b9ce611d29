"""Claims of chapter 7 (engineering) about modules: parameters vs buffers, dtype casts, caches, precision, memory.

PyTorch facts are checked on torch 2.13 (CPU); each test states the claim it proves in its docstring.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from peprep.encodings.alibi import alibi_bias
from peprep.encodings.learned import LearnedPositionalEmbedding
from peprep.encodings.rope import RotaryEmbedding, angles, cos_sin, inv_freq
from peprep.encodings.sinusoidal import sinusoidal_encoding, sinusoidal_table
from peprep.encodings.t5_bias import T5RelativeBias

F64 = torch.float64


class WithBuffers(nn.Module):
    """A learned table (Parameter), a sinusoidal table (persistent buffer), a cos cache (non-persistent)."""

    def __init__(self):
        super().__init__()
        self.learned = nn.Parameter(torch.zeros(4, 2))
        self.register_buffer("table", sinusoidal_table(4, 2))
        self.register_buffer("cos_cached", torch.ones(4, 2), persistent=False)
        self.register_buffer("step", torch.tensor(3))  # an integer buffer


def test_parameters_buffers_and_state_dict():
    """Only nn.Parameter is returned by parameters() (what an optimizer updates); persistent buffers are in
    state_dict, non-persistent ones are not; all buffers follow .to()."""
    m = WithBuffers()
    assert [n for n, _ in m.named_parameters()] == ["learned"]
    assert sorted(n for n, _ in m.named_buffers()) == ["cos_cached", "step", "table"]
    assert sorted(m.state_dict()) == ["learned", "step", "table"]
    assert [n for n, _ in LearnedPositionalEmbedding(8, 4).named_parameters()] == ["table"]


def test_persistent_buffer_of_another_length_breaks_strict_loading():
    """A persistent table saved at one length cannot be loaded strictly by a model built for another:
    load_state_dict raises a size mismatch. A non-persistent cache is never saved, so it never clashes."""
    short, long = WithBuffers(), WithBuffers()
    long.register_buffer("table", sinusoidal_table(8, 2))
    with pytest.raises(RuntimeError, match="size mismatch"):
        long.load_state_dict(short.state_dict())
    long.register_buffer("table", sinusoidal_table(4, 2))
    long.register_buffer("cos_cached", torch.ones(99, 2), persistent=False)  # a longer cache: irrelevant
    long.load_state_dict(short.state_dict())


def test_to_dtype_casts_every_floating_buffer_but_not_integer_ones():
    """module.to(torch.bfloat16) casts parameters and every floating buffer — persistent or not — and leaves
    integer buffers alone. A plain tensor attribute is not touched at all."""
    m = WithBuffers()
    m.plain = torch.ones(2)
    m.to(torch.bfloat16)
    assert m.learned.dtype == m.table.dtype == m.cos_cached.dtype == torch.bfloat16
    assert m.step.dtype == torch.int64 and m.plain.dtype == torch.float32


def test_module_to_bf16_keeps_our_rope_frequencies_exact():
    """peprep's RotaryEmbedding keeps θ as a plain float64 attribute, so a bf16 cast of the model cannot
    round it; a registered buffer would be rounded to 8 significant bits: relative error up to 2^-8 (the unit
    roundoff of bfloat16), about 0.0037 for these 32 frequencies."""
    rope = RotaryEmbedding(64)
    nn.Sequential(rope).to(torch.bfloat16)
    assert rope.inv_freq.dtype == F64 and torch.equal(rope.inv_freq, inv_freq(64))
    rounded = inv_freq(64).to(torch.bfloat16).to(F64)
    rel = ((rounded - inv_freq(64)) / inv_freq(64)).abs().max()
    assert 2**-9 < rel <= 2**-8


def test_rope_cache_grows_and_is_rebuilt_on_demand():
    """A cos/sin table is built for the longest position seen and rebuilt (longer) when a later call
    needs more; entries are the same as a fresh computation at every position."""
    rope = RotaryEmbedding(8, layout="half")
    cos_short, _ = rope.cos_sin_table(16, torch.device("cpu"))
    cos_long, sin_long = rope.cos_sin_table(5000, torch.device("cpu"))
    assert cos_short.shape[0] == 16 and cos_long.shape[0] == 5000
    fresh_cos, fresh_sin = cos_sin(angles(torch.arange(5000), inv_freq(8)), "half")
    assert torch.equal(cos_long, fresh_cos) and torch.equal(sin_long, fresh_sin)
    assert rope.cos_sin_table(10, torch.device("cpu"))[0] is cos_long  # shorter requests reuse it


def test_float16_positions_overflow_and_lose_integers():
    """float16 has 11 significant bits and a largest finite value of 65504: position 2049 becomes 2048,
    and position 70000 becomes inf (so sin/cos of it are NaN)."""
    assert float(torch.tensor(2049.0, dtype=torch.float16)) == 2048.0
    assert torch.isinf(torch.tensor(70000.0).to(torch.float16))
    assert torch.isnan(torch.tensor(70000.0).to(torch.float16).sin())


def test_sinusoidal_pe_in_half_precision():
    """Computing the sinusoidal encoding in float16 (positions and ω in fp16) is wrong by O(1) at p = 4000,
    while computing in float32 and rounding the result to fp16 errs by < 1e-3."""
    p, d = torch.tensor([4000, 4001, 4002]), 64
    exact = sinusoidal_encoding(p.to(F64), d)
    omega = torch.exp(-torch.arange(0, d, 2, dtype=F64) / d * math.log(10000.0))
    ang16 = p.to(torch.float16)[:, None] * omega.to(torch.float16)
    in_fp16 = torch.stack((ang16.sin(), ang16.cos()), -1).flatten(-2).to(F64)
    rounded_at_end = sinusoidal_encoding(p.float(), d).to(torch.float16).to(F64)
    assert (in_fp16 - exact).abs().max() > 0.5
    assert (rounded_at_end - exact).abs().max() < 1e-3


def test_autocast_lowers_matmul_angles_but_not_elementwise():
    """Under bf16 autocast a matrix product of float32 tensors runs in bfloat16 (so angles computed as
    inv_freq @ positions, as transformers 4.x did, need autocast disabled), while an elementwise product of
    float32 tensors stays float32 (transformers 5.25's form)."""
    theta = inv_freq(8).float()[None, :, None]  # (1, D/2, 1)
    positions = torch.arange(5000, 5004, dtype=torch.float32)[None, None, :]  # (1, 1, T)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        as_matmul = theta @ positions
        elementwise = positions[..., None] * theta[:, None, :, 0]
    assert as_matmul.dtype == torch.bfloat16 and elementwise.dtype == torch.float32
    exact = positions.double()[..., None] * inv_freq(8)[None, None, :]
    assert (as_matmul.transpose(1, 2).double() - exact).abs().max() > 1.0  # whole radians lost
    assert (elementwise.double() - exact).abs().max() < 1e-3


def test_memory_per_method():
    """What each method holds (float32): a sinusoidal table T·C·4 bytes, a RoPE cos+sin cache 2·T·D·4, a
    materialised ALiBi / T5 bias H·T²·4 — 128 MiB for H = 8, T = 2048, 4 GiB for H = 32, T = 8192 in bf16.
    The T5 table itself is only 32·H numbers."""
    t, c, h, d = 2048, 512, 8, 64
    assert sinusoidal_table(t, c).nbytes == t * c * 4
    cos, sin = cos_sin(angles(torch.arange(t), inv_freq(d)), "half")
    assert cos.nbytes + sin.nbytes == 2 * t * d * 4
    assert alibi_bias(h, t).float().nbytes == h * t * t * 4 == 128 * 2**20
    assert 32 * 8192 * 8192 * 2 == 4 * 2**30
    assert sum(p.numel() for p in T5RelativeBias(h).parameters()) == 32 * h
