"""Claims of chapter 2 (absolute) about learned absolute position embeddings."""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.learned import (
    LearnedPositionalEmbedding,
    PositionOutOfRange,
    extend_by_copying,
    extend_by_interpolation,
    init_learned_table,
    learned_lookup,
)


def table(max_len: int = 8, d: int = 4, seed: int = 0) -> torch.Tensor:
    return init_learned_table(max_len, d, generator=torch.Generator().manual_seed(seed))


def test_lookup_beyond_max_length_raises_clear_error():
    # A table with L_max rows has no row for position L_max: the error names the position and the range.
    t = table(max_len=8)
    torch.testing.assert_close(learned_lookup(t, torch.tensor([0, 7])), t[[0, 7]])
    with pytest.raises(PositionOutOfRange, match=r"position 8 is outside .* 0\.\.7 \(max_len=8\)"):
        learned_lookup(t, torch.tensor([3, 8]))
    with pytest.raises(PositionOutOfRange, match=r"position -1"):
        learned_lookup(t, torch.tensor([-1]))
    assert issubclass(PositionOutOfRange, IndexError)
    with pytest.raises(TypeError, match="integer positions"):
        learned_lookup(t, torch.tensor([1.5]))


def test_module_fails_when_offset_runs_past_the_table():
    # A KV cache advances the offset; once offset + T > L_max the module must refuse, not wrap around.
    layer = LearnedPositionalEmbedding(max_len=16, d_model=4)
    x = torch.zeros(2, 4, 4)
    assert layer(x, offset=12).shape == (2, 4, 4)  # positions 12..15: the last rows
    with pytest.raises(PositionOutOfRange, match="position 16"):
        layer(x, offset=13)
    with pytest.raises(PositionOutOfRange):
        layer(torch.zeros(1, 17, 4))


def test_learned_rows_are_independent_parameters():
    # Row t gets gradient only from tokens at position t: training on length 8 leaves rows 8.. untouched,
    # which is why a learned table says nothing about positions it was not trained on.
    layer = LearnedPositionalEmbedding(max_len=32, d_model=4)
    layer(torch.randn(3, 8, 4)).pow(2).sum().backward()
    grad_norm = layer.table.grad.norm(dim=-1)
    assert (grad_norm[:8] > 0).all() and (grad_norm[8:] == 0).all()


def test_init_std_matches_bert_and_gpt2_defaults():
    # N(0, 0.02²) by default (BERT's initializer_range, HF's GPT-2 default); sample std within 2 %.
    t = init_learned_table(1024, 768, generator=torch.Generator().manual_seed(0))
    assert t.std().item() == pytest.approx(0.02, rel=0.02)
    assert t.mean().abs().item() < 1e-3


def test_truncated_normal_std_is_smaller_than_its_argument():
    # TF's truncated_normal_initializer(stddev=σ) redraws beyond ±2σ; the result has std
    # σ·sqrt(1 − 4φ(2)/(Φ(2) − Φ(−2))) ≈ 0.880σ, not σ. BERT's "0.02" is really ≈ 0.0176.
    phi2 = math.exp(-2) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    factor = math.sqrt(1 - 4 * phi2 / mass)
    assert factor == pytest.approx(0.8796, abs=1e-4)
    t = init_learned_table(1024, 768, truncated=True, generator=torch.Generator().manual_seed(0))
    assert t.abs().max().item() <= 0.04
    assert t.std().item() == pytest.approx(0.02 * factor, rel=0.01)


def test_extend_by_copying_repeats_rows():
    # Longformer: new row p = old row p mod L_max; the first L_max rows are the trained ones, unchanged.
    t = table(max_len=8)
    big = extend_by_copying(t, 20)
    assert big.shape == (20, 4)
    torch.testing.assert_close(big[:8], t, rtol=0, atol=0)
    for p in range(20):
        torch.testing.assert_close(big[p], t[p % 8], rtol=0, atol=0)
    with pytest.raises(ValueError):
        extend_by_copying(t, 4)


def test_extend_by_interpolation_keeps_ends_and_lines():
    # New row p = old table sampled at p·(L−1)/(L'−1): ends fixed, and a table linear in p stays linear,
    # so neighbouring new rows are closer together (distance scaled by (L−1)/(L'−1)).
    t = table(max_len=8)
    big = extend_by_interpolation(t, 22)
    torch.testing.assert_close(big[0], t[0], rtol=0, atol=1e-7)
    torch.testing.assert_close(big[-1], t[-1], rtol=0, atol=1e-6)
    torch.testing.assert_close(big[3], t[1], rtol=0, atol=1e-6)  # 3·7/21 = 1 lands exactly on old row 1
    slope, intercept = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    line = torch.arange(8, dtype=torch.float64)[:, None] * slope + intercept
    new = extend_by_interpolation(line, 29)  # old positions 0..7 spread over 29 rows
    expected = (torch.arange(29, dtype=torch.float64) * 7 / 28)[:, None] * slope + intercept
    torch.testing.assert_close(new, expected, rtol=0, atol=1e-12)
