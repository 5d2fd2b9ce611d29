"""Claims of `engineering.rope-cpu-fast-path`: where an unfused RoPE's time goes, and what a fast one must get right.

Checked on the installed torch 2.13 and transformers 5.25; the speed numbers the KP quotes come from
`peprep bench` (benchmarks/RESULTS.md), not from here — timings never go in unit tests.
"""

from __future__ import annotations

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from peprep.encodings.rope import angles, apply_rotary, cos_sin, inv_freq
from peprep.encodings.rope_fast import RotaryTable, apply_rotary_qk_


def allocated_bytes(call) -> int:
    """Bytes of tensor memory a call allocates (torch.profiler, one thread)."""
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        call()
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            call()
    finally:
        torch.set_num_threads(threads)
    return sum(max(0, event.self_cpu_memory_usage) for event in prof.key_averages())


def test_transformers_apply_rotary_allocates_four_and_a_half_times_q_and_k():
    """q·cos, rotate_half(q)·sin (two products), cat, sum: 4 × size; the negated half: 0.5 × — for q and for k."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    q, k = torch.randn(2, 1, 4, 256, 64)
    cos, sin = cos_sin(angles(torch.arange(256), inv_freq(64)), "half")
    qk_bytes = 2 * q.numel() * q.element_size()
    assert allocated_bytes(lambda: apply_rotary_pos_emb(q, k, cos[None], sin[None])) == 4.5 * qk_bytes


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_the_in_place_rotation_allocates_nothing(dtype):
    q, k = torch.randn(2, 1, 4, 256, 64).to(dtype)
    table = RotaryTable.from_positions(torch.arange(256), 64)
    for backend in ("native", "torch"):
        assert allocated_bytes(lambda: apply_rotary_qk_(q, k, table, backend=backend)) == 0


def test_bfloat16_has_no_complex_type_but_float16_does():
    """The one-op trick `view_as_complex(x).mul_(e^{imθ})` works for float32 (and float16: complex32), not bfloat16."""
    assert torch.view_as_complex(torch.zeros(3, 2, dtype=torch.float16)).dtype == torch.complex32
    assert torch.view_as_complex(torch.zeros(3, 2)).dtype == torch.complex64
    with pytest.raises(RuntimeError, match="only supported for half, float and double tensors.*BFloat16"):
        torch.view_as_complex(torch.zeros(3, 2, dtype=torch.bfloat16))


def test_bfloat16_is_the_top_half_of_a_float32():
    """Widening bfloat16 is a 16-bit shift: for every one of the 65536 bit patterns."""
    patterns = torch.arange(-(2**15), 2**15, dtype=torch.int16)
    widened = patterns.view(torch.bfloat16).float().view(torch.int32)
    assert torch.equal(widened, patterns.to(torch.int32) << 16)


def test_round_to_nearest_even_in_integer_arithmetic_equals_torchs_rounding():
    """float32 → bfloat16: bits + 0x7FFF + (bit 16 of bits), then keep the top half (non-NaN inputs)."""
    gen = torch.Generator().manual_seed(0)
    bits = torch.randint(-(2**31), 2**31, (1_000_000,), generator=gen, dtype=torch.int64)
    ties = (torch.randint(-(2**15), 2**15, (10_000,), generator=gen) << 16) | 0x8000  # exactly halfway
    bits = torch.cat([bits, ties]).to(torch.int32)
    values = bits.view(torch.float32)
    bits, values = bits[~values.isnan()], values[~values.isnan()]
    unsigned = bits.to(torch.int64) & 0xFFFFFFFF
    rounded = ((unsigned + 0x7FFF + ((unsigned >> 16) & 1)) >> 16) & 0xFFFF
    assert torch.equal(rounded, values.to(torch.bfloat16).view(torch.int16).to(torch.int64) & 0xFFFF)


def test_a_fused_multiply_add_changes_the_last_bit_of_about_a_quarter_of_outputs():
    """a·c − b·s with two roundings (the reference) vs fma(a, c, −b·s) with one: differ in ~25% of cases."""
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 200_000, generator=gen)
    angle = torch.rand(200_000, generator=gen) * 100
    c, s = angle.cos(), angle.sin()
    two_roundings = a * c - b * s
    fused = (a.double() * c.double() - (b * s).double()).float()  # a·c is exact in float64: one rounding
    differ = (two_roundings != fused).float().mean().item()
    assert 0.2 < differ < 0.3
    # ... by at most two units in the last place of the larger product (more of the result's own last
    # place where a·c and b·s nearly cancel); the bound is reached
    larger = torch.maximum((a * c).abs(), (b * s).abs())
    ulp = torch.nextafter(larger, torch.tensor(float("inf"))) - larger
    ulps = (two_roundings - fused).abs() / ulp
    assert ulps.max().item() == 2


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_the_compiled_kernel_is_bit_for_bit_the_reference(dtype):
    """Built with -ffp-contract=off: same two products, same difference, one rounding to the dtype."""
    q, k = torch.randn(2, 2, 8, 300, 128, generator=torch.Generator().manual_seed(1)).to(dtype)
    cos, sin = cos_sin(angles(torch.arange(300), inv_freq(128)))
    rq, rk = apply_rotary_qk_(q.clone(), k.clone(), RotaryTable.from_positions(torch.arange(300), 128),
                              backend="native")
    assert torch.equal(rq, apply_rotary(q, cos, sin)) and torch.equal(rk, apply_rotary(k, cos, sin))


def test_rope_fast_has_no_backward_and_the_compiled_kernel_is_invisible_to_autograd():
    """The kernel writes through a raw pointer: autograd sees nothing (q's version counter is unchanged) and
    backward would treat q as unrotated. So rope_fast refuses inputs that need gradients, on both backends."""
    x = torch.randn(1, 2, 16, 64, generator=torch.Generator().manual_seed(2))
    table = RotaryTable.from_positions(torch.arange(16), 64)
    cos, sin = cos_sin(angles(torch.arange(16), inv_freq(64)))

    def grad_of_w(rotate) -> torch.Tensor:
        w = torch.eye(64).requires_grad_()
        q = x @ w
        (rotate(q) * x).sum().backward()
        return w.grad

    def native_behind_autograds_back(q):
        version = q._version
        with torch.no_grad():  # the only way past the guard: what a caller who forgot training would do
            apply_rotary_qk_(q, torch.zeros_like(x), table, backend="native")
        assert q._version == version
        return q

    unrotated = grad_of_w(lambda q: q)
    assert torch.equal(grad_of_w(native_behind_autograds_back), unrotated)  # silently the wrong gradient
    assert not torch.allclose(grad_of_w(lambda q: apply_rotary(q, cos, sin)), unrotated)
    for backend in ("native", "torch"):
        for dtype in (torch.float32, torch.bfloat16):
            q = (x @ torch.eye(64).requires_grad_()).to(dtype)
            with pytest.raises(ValueError, match="no backward"):
                apply_rotary_qk_(q, torch.zeros_like(q), table, backend=backend)
    # A refused call leaves nothing behind: the torch path's per-thread bfloat16 scratch still works on plain tensors.
    rotated, _ = apply_rotary_qk_(x.bfloat16(), x.bfloat16(), table, backend="torch")
    torch.testing.assert_close(rotated, apply_rotary(x.bfloat16(), cos, sin), rtol=0, atol=2**-6)
