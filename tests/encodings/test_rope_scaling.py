"""peprep.encodings.rope_scaling as code: the registry, validation, shapes and dtypes."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from peprep.encodings.rope_scaling import (
    ROPE_SCALING,
    DefaultRope,
    DynamicNTKScaling,
    LinearScaling,
    Llama3Scaling,
    LongRopeScaling,
    NTKAwareScaling,
    YarnScaling,
    make_rope_scaling,
    rope_frequencies,
)

EXAMPLES = {
    "default": DefaultRope(),
    "linear": LinearScaling(4.0),
    "ntk": NTKAwareScaling(4.0),
    "dynamic": DynamicNTKScaling(2.0, 4096),
    "yarn": YarnScaling(8.0, 4096),
    "longrope": LongRopeScaling((1.0,) * 64, (2.0,) * 64, original_max_position_embeddings=4096, factor=8.0),
    "llama3": Llama3Scaling(),
}


def test_registry_covers_every_variant():
    assert set(ROPE_SCALING) == set(EXAMPLES) == {"default", "linear", "ntk", "dynamic", "yarn", "longrope", "llama3"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_variant_returns_float64_frequencies_and_a_float(name):
    inv, factor = rope_frequencies(EXAMPLES[name], 128, seq_len=8192)
    assert inv.shape == (64,) and inv.dtype == torch.float64
    assert torch.all(inv > 0) and torch.all(inv[1:] < inv[:-1])  # still strictly falling with the pair index
    assert isinstance(factor, float) and factor >= 1.0


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_parameters_are_frozen(name):
    params = EXAMPLES[name]
    field = dataclasses.fields(params)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(params, field, 3.0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: DefaultRope(base=1.0),
        lambda: DefaultRope(base=float("nan")),
        lambda: LinearScaling(0.5),
        lambda: LinearScaling(float("inf")),
        lambda: NTKAwareScaling(-2.0),
        lambda: DynamicNTKScaling(2.0, 0),
        lambda: DynamicNTKScaling(2.0, 4096.5),
        lambda: YarnScaling(4.0, 4096, beta_fast=1.0, beta_slow=32.0),
        lambda: YarnScaling(4.0, 4096, attention_factor=0.0),
        lambda: YarnScaling(4.0, 4096, ramp="log"),
        lambda: LongRopeScaling((1.0, 2.0), (1.0,), original_max_position_embeddings=4096, factor=2.0),
        lambda: LongRopeScaling((1.0, 0.0), (1.0, 1.0), original_max_position_embeddings=4096, factor=2.0),
        lambda: LongRopeScaling((1.0,), (1.0,), original_max_position_embeddings=4096),
        lambda: Llama3Scaling(low_freq_factor=4.0, high_freq_factor=1.0),
        lambda: Llama3Scaling(factor=0.9),
    ],
)
def test_invalid_parameters_raise(build):
    with pytest.raises(ValueError):
        build()


def test_rotary_dim_is_checked():
    with pytest.raises(ValueError):
        rope_frequencies(NTKAwareScaling(2.0), 2)  # R/(R−2) undefined
    with pytest.raises(ValueError):
        rope_frequencies(LongRopeScaling((1.0,) * 8, (1.0,) * 8, original_max_position_embeddings=64, factor=2.0), 32)
    with pytest.raises(TypeError):
        rope_frequencies(object(), 64)


def test_make_rope_scaling_builds_by_name():
    assert make_rope_scaling("yarn", factor=4.0, original_max_position_embeddings=2048) == YarnScaling(4.0, 2048)
    with pytest.raises(ValueError, match="unknown rope_type"):
        make_rope_scaling("xpos", factor=2.0)


def test_factor_one_changes_nothing():
    default, _ = rope_frequencies(DefaultRope(), 64)
    for params in (LinearScaling(1.0), NTKAwareScaling(1.0), YarnScaling(1.0, 64)):
        inv, factor = rope_frequencies(params, 64)
        assert torch.allclose(inv, default, rtol=1e-15, atol=0) and factor == 1.0
