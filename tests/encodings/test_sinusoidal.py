"""peprep.encodings.sinusoidal: shapes, dtypes, argument checks and the module's position handling."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.sinusoidal import (
    SinusoidalPositionalEncoding,
    TransformerInputEmbedding,
    convert_layout,
    sinusoidal_encoding,
    sinusoidal_frequencies,
    sinusoidal_table,
)


def test_any_position_shape():
    positions = torch.arange(24, dtype=torch.float64).view(2, 3, 4)
    pe = sinusoidal_encoding(positions, 10)
    assert pe.shape == (2, 3, 4, 10)
    torch.testing.assert_close(pe[1, 2, 3], sinusoidal_encoding(torch.tensor(23.0, dtype=torch.float64), 10))


def test_dtypes():
    assert sinusoidal_encoding(torch.arange(4), 8).dtype == torch.get_default_dtype()
    assert sinusoidal_encoding(torch.arange(4), 8, dtype=torch.float64).dtype == torch.float64
    assert sinusoidal_encoding(torch.arange(4, dtype=torch.float64), 8).dtype == torch.float64
    assert sinusoidal_encoding(torch.arange(4, dtype=torch.float16), 8).dtype == torch.float16
    assert sinusoidal_table(3, 8).dtype == torch.get_default_dtype()


def test_float32_result_is_rounded_once():
    # sin/cos are taken in float64 and rounded: float32 output is the nearest float32 of the float64 value.
    p = torch.tensor([12345.0, 99999.0])
    torch.testing.assert_close(sinusoidal_encoding(p, 64),
                               sinusoidal_encoding(p.double(), 64).float(), rtol=0, atol=0)


@pytest.mark.parametrize("d", [0, 3, 7])
def test_odd_or_zero_d_is_rejected(d):
    with pytest.raises(ValueError, match="even d"):
        sinusoidal_encoding(torch.arange(3), d)


def test_bad_base_and_names_are_rejected():
    with pytest.raises(ValueError, match="base"):
        sinusoidal_frequencies(8, base=1.0)
    with pytest.raises(ValueError, match="spacing"):
        sinusoidal_frequencies(8, spacing="fairseq")
    with pytest.raises(ValueError, match="layout"):
        sinusoidal_encoding(torch.arange(3), 8, layout="blocks")
    with pytest.raises(ValueError, match="layouts"):
        convert_layout(torch.zeros(8), "interleaved", "blocks")


def test_d_equal_two_is_one_frequency():
    torch.testing.assert_close(sinusoidal_frequencies(2, spacing="t2t"), torch.ones(1, dtype=torch.float64))
    torch.testing.assert_close(sinusoidal_frequencies(2), torch.ones(1, dtype=torch.float64))


def test_table_offset_equals_shifted_positions():
    torch.testing.assert_close(sinusoidal_table(5, 16, offset=100),
                               sinusoidal_encoding(torch.arange(100, 105), 16), rtol=0, atol=0)


def test_module_adds_encoding_with_offset_or_positions():
    layer = SinusoidalPositionalEncoding(16, layout="halves")
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    torch.testing.assert_close(layer(x, offset=7) - x, sinusoidal_table(5, 16, offset=7, layout="halves",
                                                                        dtype=torch.float64).expand(2, 5, 16))
    per_row = torch.tensor([[0, 1, 2, 3, 4], [0, 0, 0, 1, 2]], dtype=torch.float64)  # e.g. left padding
    out = layer(x, positions=per_row)
    torch.testing.assert_close(out - x, sinusoidal_encoding(per_row, 16, layout="halves"))
    assert list(layer.parameters()) == []


def test_input_embedding_shapes_and_eval_is_deterministic():
    layer = TransformerInputEmbedding(100, 32).eval()
    tokens = torch.randint(0, 100, (3, 9))
    out = layer(tokens)
    assert out.shape == (3, 9, 32)
    torch.testing.assert_close(out, layer(tokens))
