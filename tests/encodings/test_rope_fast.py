"""peprep.encodings.rope_fast computes what the readable reference computes, in place, without allocating.

Tolerance (the module docstring): float32 within 2e-6 of `rope.apply_rotary` for O(1) inputs; float16 and
bfloat16 within one unit in the last place of the reference's output (both round a float32 result once).
"""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.rope import angles, apply_rotary, cos_sin, inv_freq
from peprep.encodings.rope_fast import BLOCK_ELEMENTS, RotaryTable, apply_rotary_, apply_rotary_qk_

DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]
SHAPES = [  # (B, H, T, D), R
    ((2, 3, 40, 16), 16),  # whole rows per block
    ((1, 4, 1, 64), 64),  # decoding: T = 1
    ((2, 2, 700, 64), 48),  # partial rotary; T cut into blocks with a ragged last one
    ((1, 16, 3000, 32), 32),  # enough blocks for the thread pool
]


def randn(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(dtype)


def assert_matches_reference(out: torch.Tensor, ref: torch.Tensor) -> None:
    assert out.dtype == ref.dtype and out.shape == ref.shape
    if ref.dtype in (torch.float32, torch.float64):
        assert torch.allclose(out, ref, atol=2e-6, rtol=0)
    else:
        ulp = torch.nextafter(ref.abs(), torch.full_like(ref, float("inf"))) - ref.abs()
        assert ((out.float() - ref.float()).abs() <= ulp.float()).all()


@pytest.mark.parametrize("layout", ["interleaved", "half"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape,rotary_dim", SHAPES, ids=lambda v: str(v))
def test_in_place_rotation_equals_the_reference(layout, dtype, shape, rotary_dim):
    x = randn(*shape, dtype=dtype)
    positions = torch.arange(shape[2]) + 3
    cos, sin = cos_sin(angles(positions, inv_freq(rotary_dim)), layout)
    ref = apply_rotary(x, cos, sin, layout=layout)
    y = x.clone()
    returned = apply_rotary_(y, RotaryTable.from_positions(positions, rotary_dim, layout=layout))
    assert returned is y
    assert_matches_reference(y, ref)
    assert torch.equal(y[..., rotary_dim:], x[..., rotary_dim:])  # pass-through channels untouched


@pytest.mark.parametrize("layout", ["interleaved", "half"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_out_leaves_x_untouched_and_takes_the_reference_signature(layout, dtype):
    x = randn(2, 3, 50, 32, dtype=dtype)
    cos, sin = cos_sin(angles(torch.arange(50), inv_freq(24)), layout)  # partial rotary: 24 of 32
    before = x.clone()
    out = torch.full_like(x, float("nan"))
    assert apply_rotary_(x, cos, sin, layout=layout, out=out) is out
    assert torch.equal(x, before)
    assert_matches_reference(out, apply_rotary(x, cos, sin, layout=layout))


@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_per_sequence_positions(layout):
    """A (B, T) position table (left padding, packed sequences) rotates batch row b with row b."""
    x = randn(3, 2, 20, 16, dtype=torch.float32)
    positions = torch.stack([torch.arange(20), torch.arange(20) + 100, torch.arange(20).flip(0)])
    cos, sin = cos_sin(angles(positions, inv_freq(16)), layout)  # (B, T, R)
    ref = apply_rotary(x, cos, sin, layout=layout)
    y = apply_rotary_(x.clone(), RotaryTable.from_positions(positions, 16, layout=layout))
    assert_matches_reference(y, ref)


def test_rotates_a_transposed_view_in_place():
    """q from split_heads is a (B, T, H, D) -> (B, H, T, D) view: the rotation lands in the original."""
    base = randn(2, 30, 4, 16)  # (B, T, H, D)
    q = base.transpose(1, 2)  # (B, H, T, D), not contiguous
    ref = apply_rotary(q, *cos_sin(angles(torch.arange(30), inv_freq(16))))
    apply_rotary_(q, RotaryTable.from_positions(torch.arange(30), 16))
    assert_matches_reference(base.transpose(1, 2), ref)


def test_q_and_k_together_and_thread_count_does_not_change_the_numbers():
    shape = (1, 8, 2 * BLOCK_ELEMENTS // 64, 64)  # dozens of blocks: the pool is used with 2 threads
    q, k = randn(*shape, seed=1, dtype=torch.bfloat16), randn(*shape, seed=2, dtype=torch.bfloat16)
    table = RotaryTable.from_positions(torch.arange(shape[2]), 64)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        serial = apply_rotary_qk_(q.clone(), k.clone(), table)
        torch.set_num_threads(2)
        pooled = apply_rotary_qk_(q.clone(), k.clone(), table)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(serial[0], pooled[0]) and torch.equal(serial[1], pooled[1])
    assert_matches_reference(serial[0], apply_rotary(q, *cos_sin(angles(torch.arange(shape[2]), inv_freq(64)))))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_no_allocation_after_the_first_call(dtype, layout):
    """The claim that removes the peers' cost: once warm, a rotation allocates no tensor memory."""
    from torch.profiler import ProfilerActivity, profile

    x = randn(1, 4, 600, 64, dtype=dtype)
    table = RotaryTable.from_positions(torch.arange(600), 64, layout=layout)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # the profiler records allocations of the calling thread
        apply_rotary_(x, table)
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            apply_rotary_(x, table)
    finally:
        torch.set_num_threads(threads)
    allocated = sum(max(0, e.self_cpu_memory_usage) for e in prof.key_averages())
    assert allocated == 0


def test_errors_are_clear():
    table = RotaryTable.from_positions(torch.arange(10), 8)
    with pytest.raises(ValueError, match="positions"):
        apply_rotary_(torch.zeros(1, 1, 11, 8), table)
    with pytest.raises(ValueError, match="channels"):
        apply_rotary_(torch.zeros(1, 1, 10, 6), table)
    with pytest.raises(ValueError, match="unit stride"):
        apply_rotary_(torch.zeros(1, 1, 8, 10).transpose(-1, -2), table)
    with pytest.raises(ValueError, match="floating-point"):
        apply_rotary_(torch.zeros(1, 1, 10, 8, dtype=torch.int64), table)
    with pytest.raises(ValueError, match="layout"):
        apply_rotary_(torch.zeros(1, 1, 10, 8), table, layout="half")
    with pytest.raises(ValueError, match="B, H, T, D"):
        apply_rotary_(torch.zeros(10, 8), table)
    with pytest.raises(ValueError, match="out"):
        apply_rotary_(torch.zeros(1, 1, 10, 8), table, out=torch.zeros(1, 1, 10, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="layout"):
        RotaryTable.from_positions(torch.arange(4), 8, layout="neox")
