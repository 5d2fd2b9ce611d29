"""peprep.encodings.rope_fast computes what the readable reference computes, in place, without allocating.

Both backends are tested everywhere: the compiled kernel ("native") and blocked torch ops ("torch").
Tolerance (the module docstring): the native kernel equals `rope.apply_rotary` bit for bit in float32
and bfloat16; the torch path is within 2e-6 in float32 for O(1) inputs, and within one unit in the last
place of the reference's output in float16 and bfloat16 (both round a float32 result once).
"""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.rope import angles, apply_rotary, cos_sin, inv_freq
from peprep.encodings import rope_native
from peprep.encodings.rope_fast import BLOCK_ELEMENTS, RotaryTable, apply_rotary_, apply_rotary_qk_, backend_in_use

DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]
SHAPES = [  # (B, H, T, D), R
    ((2, 3, 40, 16), 16),  # whole rows per block
    ((1, 4, 1, 64), 64),  # decoding: T = 1
    ((2, 2, 700, 64), 48),  # partial rotary; T cut into blocks with a ragged last one
    ((1, 16, 3000, 32), 32),  # enough blocks for the thread pool
]


BACKENDS = ["native", "torch"]
NATIVE_DTYPES = (torch.float32, torch.bfloat16)


def backend_for(backend: str, dtype: torch.dtype) -> str:
    """float16 and float64 always take the torch path: ask for "auto" there, which must pick it."""
    return backend if backend == "torch" or dtype in NATIVE_DTYPES else "auto"


def randn(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(dtype)


def assert_matches_reference(out: torch.Tensor, ref: torch.Tensor, backend: str = "torch") -> None:
    assert out.dtype == ref.dtype and out.shape == ref.shape
    if backend == "native" and ref.dtype in NATIVE_DTYPES:
        assert torch.equal(out, ref)  # bit for bit: same products, same order, one rounding
    elif ref.dtype in (torch.float32, torch.float64):
        assert torch.allclose(out, ref, atol=2e-6, rtol=0)
    else:
        ulp = torch.nextafter(ref.abs(), torch.full_like(ref, float("inf"))) - ref.abs()
        assert ((out.float() - ref.float()).abs() <= ulp.float()).all()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["interleaved", "half"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape,rotary_dim", SHAPES, ids=lambda v: str(v))
def test_in_place_rotation_equals_the_reference(layout, dtype, shape, rotary_dim, backend):
    x = randn(*shape, dtype=dtype)
    positions = torch.arange(shape[2]) + 3
    cos, sin = cos_sin(angles(positions, inv_freq(rotary_dim)), layout)
    ref = apply_rotary(x, cos, sin, layout=layout)
    y = x.clone()
    table = RotaryTable.from_positions(positions, rotary_dim, layout=layout)
    returned = apply_rotary_(y, table, backend=backend_for(backend, dtype))
    assert returned is y
    assert_matches_reference(y, ref, backend)
    assert torch.equal(y[..., rotary_dim:], x[..., rotary_dim:])  # pass-through channels untouched


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["interleaved", "half"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_out_leaves_x_untouched_and_takes_the_reference_signature(layout, dtype, backend):
    x = randn(2, 3, 50, 32, dtype=dtype)
    cos, sin = cos_sin(angles(torch.arange(50), inv_freq(24)), layout)  # partial rotary: 24 of 32
    before = x.clone()
    out = torch.full_like(x, float("nan"))
    assert apply_rotary_(x, cos, sin, layout=layout, out=out, backend=backend) is out
    assert torch.equal(x, before)
    assert_matches_reference(out, apply_rotary(x, cos, sin, layout=layout), backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_per_sequence_positions(layout, backend):
    """A (B, T) position table (left padding, packed sequences) rotates batch row b with row b."""
    x = randn(3, 2, 20, 16, dtype=torch.float32)
    positions = torch.stack([torch.arange(20), torch.arange(20) + 100, torch.arange(20).flip(0)])
    cos, sin = cos_sin(angles(positions, inv_freq(16)), layout)  # (B, T, R)
    ref = apply_rotary(x, cos, sin, layout=layout)
    y = apply_rotary_(x.clone(), RotaryTable.from_positions(positions, 16, layout=layout), backend=backend)
    assert_matches_reference(y, ref, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rotates_a_transposed_view_in_place(backend):
    """q from split_heads is a (B, T, H, D) -> (B, H, T, D) view: the rotation lands in the original."""
    base = randn(2, 30, 4, 16)  # (B, T, H, D)
    q = base.transpose(1, 2)  # (B, H, T, D), not contiguous
    ref = apply_rotary(q, *cos_sin(angles(torch.arange(30), inv_freq(16))))
    apply_rotary_(q, RotaryTable.from_positions(torch.arange(30), 16), backend=backend)
    assert_matches_reference(base.transpose(1, 2), ref, backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_bfloat16_view_at_an_odd_element_offset(layout, backend):
    """A view starting 2 bytes into its storage: the kernel's 32-bit pair words are not 4-byte aligned."""
    base = randn(2, 3, 40, 66, dtype=torch.bfloat16)
    x = base[..., 1:65]
    assert x.data_ptr() % 4 == 2
    ref = apply_rotary(x, *cos_sin(angles(torch.arange(40), inv_freq(64)), layout), layout=layout)
    apply_rotary_(x, RotaryTable.from_positions(torch.arange(40), 64, layout=layout), backend=backend)
    assert_matches_reference(base[..., 1:65], ref, backend)
    assert torch.equal(base[..., 0], randn(2, 3, 40, 66, dtype=torch.bfloat16)[..., 0])  # neighbours untouched


@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_native_bfloat16_rounding_matches_torch_on_extreme_values(layout):
    """Round-to-nearest-even, overflow to ±inf, subnormals, inf and NaN inputs: as the reference rounds."""
    special = torch.tensor([0.0, -0.0, 1.0, 3.0e38, -3.0e38, 1e-40, -1e-40, 1e-45, float("inf"), float("-inf"),
                            float("nan"), 1.00390625, 1.01171875, 65504.0, 2.0**-126, 2.0**-133])
    values = torch.cat([special, randn(4096 - len(special), seed=3) * torch.logspace(-38, 38, 4096 - len(special))])
    x = values[torch.randperm(4096, generator=torch.Generator().manual_seed(4))].reshape(1, 2, 64, 32)
    x = x.to(torch.bfloat16)
    positions = torch.arange(64) * 977  # large angles: cos and sin far from 0 and 1
    ref = apply_rotary(x, *cos_sin(angles(positions, inv_freq(32)), layout), layout=layout)
    y = apply_rotary_(x.clone(), RotaryTable.from_positions(positions, 32, layout=layout), backend="native")
    torch.testing.assert_close(y, ref, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_q_and_k_together_and_thread_count_does_not_change_the_numbers(backend):
    shape = (1, 8, 2 * BLOCK_ELEMENTS // 64, 64)  # dozens of blocks: the pool is used with 2 threads
    q, k = randn(*shape, seed=1, dtype=torch.bfloat16), randn(*shape, seed=2, dtype=torch.bfloat16)
    table = RotaryTable.from_positions(torch.arange(shape[2]), 64)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        serial = apply_rotary_qk_(q.clone(), k.clone(), table, backend=backend)
        torch.set_num_threads(2)
        pooled = apply_rotary_qk_(q.clone(), k.clone(), table, backend=backend)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(serial[0], pooled[0]) and torch.equal(serial[1], pooled[1])
    cos, sin = cos_sin(angles(torch.arange(shape[2]), inv_freq(64)))
    assert_matches_reference(serial[0], apply_rotary(q, cos, sin), backend)
    assert_matches_reference(serial[1], apply_rotary(k, cos, sin), backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_no_allocation_after_the_first_call(dtype, layout, backend):
    """The claim that removes the peers' cost: once warm, a rotation allocates no tensor memory."""
    from torch.profiler import ProfilerActivity, profile

    x = randn(1, 4, 600, 64, dtype=dtype)
    table = RotaryTable.from_positions(torch.arange(600), 64, layout=layout)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # the profiler records allocations of the calling thread
        apply_rotary_(x, table, backend=backend)
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            apply_rotary_(x, table, backend=backend)
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
    with pytest.raises(ValueError, match="backend"):
        apply_rotary_(torch.zeros(1, 1, 10, 8), table, backend="cuda")
    with pytest.raises(RuntimeError, match="not available for torch.float16"):
        apply_rotary_(torch.zeros(1, 1, 10, 8, dtype=torch.float16), table, backend="native")
    with pytest.raises(ValueError, match="CPU tensors, not meta"):  # a raw pointer it cannot read
        apply_rotary_(torch.zeros(1, 1, 10, 8, device="meta"), table, backend="native")
    with pytest.raises(ValueError, match="contiguous float32 table"):
        apply_rotary_(torch.zeros(1, 1, 10, 8), RotaryTable.from_angles(torch.zeros(10, 4, dtype=torch.float64)),
                      backend="native")
    with pytest.raises(ValueError, match="no backward"):  # gradients would silently skip the rotation
        apply_rotary_(torch.zeros(1, 1, 10, 8, requires_grad=True), table)
    with torch.no_grad():  # inference with parameters that require grad is fine
        apply_rotary_(torch.zeros(1, 1, 10, 8, requires_grad=True), table)
    with pytest.raises(ValueError, match="differ in shape"):
        apply_rotary_(torch.zeros(1, 1, 10, 8), RotaryTable("interleaved", table.cos, table.sin[:5], table.rot))


# --- the compiled kernel: building, caching, falling back -------------------------------------------


@pytest.fixture
def fresh_native(monkeypatch, tmp_path):
    """rope_native with no library loaded yet and its cache in tmp_path; the real state comes back after."""
    monkeypatch.setattr(rope_native, "_state", {})
    monkeypatch.setenv("PEPREP_CACHE", str(tmp_path))
    return tmp_path


def test_the_kernel_builds_wherever_a_c_compiler_is_present():
    """No silent fallback in CI: with cc or gcc on PATH, the default backend is the compiled kernel."""
    import shutil

    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler on this machine: the torch path is the default, tested above")
    assert rope_native.reason().startswith("loaded from")
    assert backend_in_use(torch.bfloat16).startswith("native")
    assert backend_in_use(torch.float16).startswith("torch (the compiled kernel does not cover torch.float16)")


def test_a_built_kernel_is_reused_from_the_cache(fresh_native):
    assert rope_native.kernel("interleaved", "bfloat16") is not None
    (library,) = (fresh_native / "native").glob("rope_kernel-*.so")
    built = library.stat().st_mtime_ns
    rope_native._state.clear()  # as a new process would start
    assert rope_native.kernel("half", "float32") is not None
    assert library.stat().st_mtime_ns == built and rope_native.reason() == f"loaded from {library}"


def test_a_compiler_that_refuses_the_optional_x86_flag_still_builds_the_kernel(fresh_native, monkeypatch, tmp_path):
    import shutil

    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler on this machine")
    picky = tmp_path / "picky-cc"  # a compiler like clang on aarch64: rejects -mprefer-vector-width
    picky.write_text(f'#!/bin/sh\nfor a in "$@"; do case "$a" in -mprefer-vector-width=*) exit 1;; esac; done\n'
                     f'exec {gcc} "$@"\n')
    picky.chmod(0o755)
    monkeypatch.setenv("CC", str(picky))
    assert rope_native.kernel("interleaved", "bfloat16") is not None, rope_native.reason()
    x = randn(1, 2, 30, 16, dtype=torch.bfloat16)
    ref = apply_rotary(x, *cos_sin(angles(torch.arange(30), inv_freq(16))))
    assert torch.equal(apply_rotary_(x.clone(), RotaryTable.from_positions(torch.arange(30), 16), backend="native"), ref)


@pytest.mark.parametrize("environment,why", [
    ({"PEPREP_NATIVE": "0"}, "disabled by PEPREP_NATIVE=0"),
    ({"CC": "false"}, "false failed on rope_kernel.c"),
])
def test_without_the_kernel_auto_falls_back_to_torch_and_native_says_why(fresh_native, monkeypatch, environment, why):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    x = randn(1, 2, 30, 16, dtype=torch.bfloat16)
    table = RotaryTable.from_positions(torch.arange(30), 16)
    ref = apply_rotary(x, *cos_sin(angles(torch.arange(30), inv_freq(16))))
    assert_matches_reference(apply_rotary_(x.clone(), table), ref)
    assert backend_in_use(torch.bfloat16) == f"torch ({rope_native.reason()})" and why in rope_native.reason()
    with pytest.raises(RuntimeError, match="not available"):
        apply_rotary_(x.clone(), table, backend="native")
    assert not list((fresh_native / "native").glob("*.so"))  # a failed build leaves nothing behind
