"""Differential tests: peprep's absolute encodings against implementations nobody here wrote.

Peers (versions pinned in pyproject.toml): positional-encodings 6.0.3, x-transformers 2.31.10,
transformers 5.25.0 (Marian, XLM, M2M100 sinusoidal tables; BERT and GPT-2 learned tables), timm
1.0.31 (sin-cos helpers, loaded without torchvision). Who uses which convention:

    positional-encodings PositionalEncoding1D   interleaved, paper spacing (float32)
    transformers XLM create_sinusoidal_embeddings  interleaved, paper spacing (float64 -> float32)
    transformers Marian                          halves,      paper spacing (float64 -> float32)
    x-transformers ScaledSinusoidalEmbedding     halves,      paper spacing, times a learned scale
    transformers M2M100 (fairseq, tensor2tensor) halves,      t2t spacing (float32)
    timm freq_bands / build_sincos2d_pos_embed   paper frequencies; 2-D blocks in halves layout

Tolerances (entries lie in [−1, 1]): peers that form p·ω in float32 carry a phase error of about
p·2⁻²⁴ (≈ 2e-5 at p = 300), so they get atol 5e-5 for positions below 300; peers that compute in float64
and round once (XLM, Marian) agree to 1e-6, as does ours. Learned lookups copy the same numbers: exact,
or 1e-6 after LayerNorm.
"""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.learned import LearnedPositionalEmbedding, PositionOutOfRange, learned_lookup
from peprep.encodings.sinusoidal import sinusoidal_encoding, sinusoidal_frequencies, sinusoidal_table

ATOL = 5e-5  # float32 phase error at positions < 300 (see module docstring)


@pytest.mark.parametrize("d", [8, 64, 128])
def test_positional_encodings_package_is_paper_interleaved(d):
    from positional_encodings.torch_encodings import PositionalEncoding1D

    theirs = PositionalEncoding1D(d)(torch.zeros(2, 300, d))  # (B, T, d), the encoding only
    ours = sinusoidal_table(300, d, layout="interleaved", spacing="paper")
    torch.testing.assert_close(theirs[0], ours, rtol=0, atol=ATOL)
    torch.testing.assert_close(theirs[1], ours, rtol=0, atol=ATOL)


def test_transformers_xlm_is_paper_interleaved():
    from transformers.models.xlm.modeling_xlm import create_sinusoidal_embeddings

    out = torch.empty(200, 32)
    create_sinusoidal_embeddings(200, 32, out)
    torch.testing.assert_close(out, sinusoidal_table(200, 32), rtol=0, atol=1e-6)


def test_transformers_marian_is_paper_halves():
    from transformers.models.marian.modeling_marian import MarianSinusoidalPositionalEmbedding

    table = MarianSinusoidalPositionalEmbedding(200, 32).create_weight()
    torch.testing.assert_close(table, sinusoidal_table(200, 32, layout="halves"), rtol=0, atol=1e-6)
    assert not torch.allclose(table, sinusoidal_table(200, 32, layout="interleaved"), atol=0.1)


def test_transformers_m2m100_is_t2t_spacing_halves():
    # fairseq / tensor2tensor: ω_i = 10000^(−i/(d/2 − 1)); HF's docstring says it "differs slightly" from §3.5.
    from transformers.models.m2m_100.modeling_m2m_100 import M2M100SinusoidalPositionalEmbedding

    table = M2M100SinusoidalPositionalEmbedding.get_embedding(200, 32)
    torch.testing.assert_close(table, sinusoidal_table(200, 32, layout="halves", spacing="t2t"), rtol=0, atol=ATOL)
    assert not torch.allclose(table, sinusoidal_table(200, 32, layout="halves", spacing="paper"), atol=1e-2)


def test_x_transformers_scaled_sinusoidal_with_offsets_and_fractional_positions():
    # ScaledSinusoidalEmbedding = [sin; cos] of paper frequencies times a learned scale (init d^(−1/2)).
    from x_transformers.x_transformers import ScaledSinusoidalEmbedding

    d = 64
    emb = ScaledSinusoidalEmbedding(d)
    x = torch.zeros(1, 20, d)
    scale = emb.scale.detach()
    ours = sinusoidal_table(20, d, offset=37, layout="halves")
    torch.testing.assert_close(emb(x, offset=37) / scale, ours, rtol=0, atol=ATOL)
    fractional = torch.linspace(0, 9.5, 20)  # interpolated (non-integer) positions
    torch.testing.assert_close(emb(x, pos=fractional) / scale,
                               sinusoidal_encoding(fractional, d, layout="halves"), rtol=0, atol=ATOL)


def test_timm_frequencies_and_sincos_layout(timm_layers):
    sincos = timm_layers("pos_embed_sincos")
    torch.testing.assert_close(sincos.freq_bands(64, temperature=10000.0, step=2),
                               sinusoidal_frequencies(64, dtype=torch.float32), rtol=1e-6, atol=0)
    # 2-D helper on an (H, 1) grid with interleave_sin_cos=True: the first dim/2 channels are the 1-D
    # halves-layout encoding of the row index with d' = dim/2 (frequencies 10000^(−2j/d')).
    grid = sincos.build_sincos2d_pos_embed([50, 1], dim=64, temperature=10000.0, interleave_sin_cos=True)
    torch.testing.assert_close(grid[:, :32], sinusoidal_table(50, 32, layout="halves"), rtol=0, atol=ATOL)


def _small_gpt2(n_positions: int = 16, d: int = 8):
    from transformers import GPT2Config
    from transformers.models.gpt2.modeling_gpt2 import GPT2Model

    config = GPT2Config(n_positions=n_positions, n_embd=d, n_layer=0, n_head=2, vocab_size=10,
                        bos_token_id=None, eos_token_id=None)
    return GPT2Model(config).eval()


def test_gpt2_learned_table_matches_and_defaults():
    from transformers import GPT2Config

    assert GPT2Config().n_positions == 1024 and GPT2Config().initializer_range == 0.02
    gpt2 = _small_gpt2()
    ours = LearnedPositionalEmbedding(16, 8)
    with torch.no_grad():
        ours.table.copy_(gpt2.wpe.weight)
        x = torch.randn(2, 5, 8)
        # n_layer = 0: GPT-2 returns ln_f(inputs_embeds + wpe(position_ids)).
        theirs = gpt2(inputs_embeds=x).last_hidden_state
        torch.testing.assert_close(theirs, gpt2.ln_f(ours(x)), rtol=0, atol=1e-6)
        ids = torch.arange(9, 14)[None]  # an offset, as a KV cache would pass
        theirs = gpt2(inputs_embeds=x, position_ids=ids.expand(2, -1)).last_hidden_state
        torch.testing.assert_close(theirs, gpt2.ln_f(ours(x, offset=9)), rtol=0, atol=1e-6)
        # Beyond n_positions GPT-2 fails with a bare IndexError; ours names position and range.
        with pytest.raises(IndexError):
            gpt2(inputs_embeds=torch.zeros(1, 17, 8))
        with pytest.raises(PositionOutOfRange, match="position 16"):
            ours(torch.zeros(1, 17, 8))


def test_bert_learned_table_matches_and_defaults():
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertEmbeddings

    assert BertConfig().max_position_embeddings == 512 and BertConfig().initializer_range == 0.02
    config = BertConfig(hidden_size=8, max_position_embeddings=16, vocab_size=10, type_vocab_size=2)
    bert = BertEmbeddings(config).eval()
    with torch.no_grad():
        bert.word_embeddings.weight.zero_()
        bert.token_type_embeddings.weight.zero_()
        theirs = bert(input_ids=torch.zeros(1, 7, dtype=torch.long))  # LayerNorm(0 + 0 + P[0..6])
        ours = bert.LayerNorm(learned_lookup(bert.position_embeddings.weight, torch.arange(7)))
        torch.testing.assert_close(theirs[0], ours, rtol=0, atol=1e-6)
        with pytest.raises(RuntimeError):  # 17 > 16 positions: a shape error, not a message about positions
            bert(input_ids=torch.zeros(1, 17, dtype=torch.long))


def test_x_transformers_absolute_embedding_matches_scaled_lookup():
    # x-transformers multiplies its learned table by d^(−1/2) and asserts seq_len <= max_seq_len.
    from x_transformers.x_transformers import AbsolutePositionalEmbedding

    d = 16
    theirs = AbsolutePositionalEmbedding(d, max_seq_len=32)
    x = torch.zeros(1, 10, d)
    with torch.no_grad():
        ours = learned_lookup(theirs.emb.weight, torch.arange(5, 15)) * d**-0.5
        torch.testing.assert_close(theirs(x, offset=5), ours, rtol=0, atol=0)
    with pytest.raises(AssertionError):
        theirs(torch.zeros(1, 33, d))
