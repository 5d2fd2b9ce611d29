"""peprep.encodings.rope: shapes, conventions, errors and the module's cache (the math is in tests/claims)."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.rope import (
    RotaryEmbedding,
    angles,
    apply_rotary,
    apply_rotary_complex,
    cos_sin,
    half_from_interleaved_index,
    inv_freq,
    permute_qk_weight,
    rope,
    rotary_dim_for,
    rotate_half,
    rotate_pairs,
)


def test_rotate_helpers_are_multiplication_by_i():
    x = torch.arange(1.0, 7.0)
    assert rotate_pairs(x).tolist() == [-2, 1, -4, 3, -6, 5]
    assert rotate_half(x).tolist() == [-4, -5, -6, 1, 2, 3]
    assert torch.equal(rotate_pairs(rotate_pairs(x)), -x) and torch.equal(rotate_half(rotate_half(x)), -x)


def test_cos_sin_layouts():
    a = torch.tensor([[0.1, 0.2, 0.3]])
    cos_i, _ = cos_sin(a, "interleaved")
    cos_h, _ = cos_sin(a, "half")
    assert torch.allclose(cos_i, torch.tensor([[0.1, 0.1, 0.2, 0.2, 0.3, 0.3]]).cos())
    assert torch.allclose(cos_h, torch.tensor([[0.1, 0.2, 0.3, 0.1, 0.2, 0.3]]).cos())
    assert half_from_interleaved_index(6).tolist() == [0, 2, 4, 1, 3, 5]


def test_angles_dtype_is_float32_or_float64_whatever_the_input():
    theta = inv_freq(8).to(torch.bfloat16)
    assert angles(torch.arange(5), theta).dtype == torch.float32
    assert angles(torch.arange(5, dtype=torch.int32), theta, dtype=torch.float64).shape == (5, 4)
    with pytest.raises(ValueError, match="float32 or float64"):
        angles(torch.arange(5), theta, dtype=torch.bfloat16)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="layout"):
        cos_sin(torch.zeros(3, 2), "neox")
    with pytest.raises(ValueError, match="even"):
        inv_freq(7)
    with pytest.raises(ValueError, match="rotary_dim"):
        apply_rotary(torch.zeros(1, 4), *cos_sin(torch.zeros(1, 3)))
    with pytest.raises(ValueError, match="even"):
        rotary_dim_for(10, 0.3)
    with pytest.raises(ValueError, match="heads"):
        permute_qk_weight(torch.zeros(12, 4), 5)


def test_per_sequence_positions_broadcast_over_heads():
    """positions (B, T) -> cos (B, T, R) -> one rotation per sequence, shared by all heads."""
    x = torch.randn(2, 3, 5, 8, dtype=torch.float64)
    pos = torch.tensor([[0, 1, 2, 3, 4], [10, 11, 12, 13, 14]])
    out = rope(x, pos)
    assert torch.allclose(out[0], rope(x[:1], pos[0])[0]) and torch.allclose(out[1], rope(x[1:], pos[1])[0])


def test_output_dtype_follows_input():
    x = torch.randn(1, 1, 4, 8).to(torch.bfloat16)
    assert rope(x, torch.arange(4)).dtype == torch.bfloat16
    assert apply_rotary_complex(x.float(), angles(torch.arange(4), inv_freq(8))).dtype == torch.float32


def test_complex_form_supports_partial_rotary():
    x = torch.randn(1, 1, 4, 16, dtype=torch.float64)
    a = angles(torch.arange(4), inv_freq(8), dtype=torch.float64)
    out = apply_rotary_complex(x, a)
    assert torch.allclose(out, rope(x, torch.arange(4), rotary_dim=8), atol=1e-6)
    assert torch.equal(out[..., 8:], x[..., 8:])


def test_module_reuses_and_grows_its_table():
    module = RotaryEmbedding(16, partial_rotary_factor=0.5, layout="half")
    assert module.rotary_dim == 8
    q = torch.randn(1, 2, 4, 16)
    module(q, q, torch.arange(4))
    first = module._cos
    module(q[:, :, :2], q[:, :, :2], torch.arange(2))
    assert module._cos is first  # short request: same table
    module(q, q, offset=100)
    assert module._cos.shape == (104, 8)
    with pytest.raises(ValueError, match="non-negative"):
        module(q, q, torch.tensor([-1, 0, 1, 2]))


def test_module_default_positions_use_the_offset():
    module = RotaryEmbedding(8)
    q = torch.randn(1, 1, 3, 8, dtype=torch.float64)
    out, _ = module(q, q, offset=7)
    assert torch.allclose(out, rope(q, torch.arange(7, 10)), atol=1e-6)
