"""Chapter 3 encodings against implementations nobody here wrote (../shared/peers.md).

Tolerances: integer buckets and indices must be equal; float64 values within 1e-12 unless a peer
computes in lower precision (stated where it does: Bloom and MPT slopes in float32, Falcon's ALiBi
tensor in bfloat16, x-transformers' buffers in float32, DeBERTa's √(3D) in float32).
"""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.alibi import alibi_bias, alibi_slopes
from peprep.encodings.attention import attention_weights
from peprep.encodings.cope import cope_bias
from peprep.encodings.deberta import build_relative_position, disentangled_scores, make_log_bucket_position
from peprep.encodings.t5_bias import relative_position_bucket, t5_position_bias

T5Attention = pytest.importorskip("transformers.models.t5.modeling_t5").T5Attention
xt = pytest.importorskip("x_transformers.x_transformers")

EXACT = dict(rtol=0, atol=0)
F64 = dict(rtol=0, atol=1e-12)
F32 = dict(rtol=1e-6, atol=1e-7)
REL = torch.arange(-400, 401)


# --- ALiBi: the authors' get_slopes, written here from its description ----------------------------


def official_get_slopes(n: int) -> list[float]:
    """ofirpress/attention_with_linear_biases, fairseq/models/transformer.py: for a power of two the
    geometric sequence with start = ratio = 2^(−2^−(log2 n − 3)) = 2^(−8/n); otherwise the slopes of
    the closest lower power of two c, then get_slopes(2c)[0::2][: n − c]."""
    if math.log2(n).is_integer():
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]
    c = 2 ** math.floor(math.log2(n))
    return official_get_slopes(c) + official_get_slopes(2 * c)[0::2][: n - c]


@pytest.mark.parametrize("n", range(1, 65))
def test_alibi_slopes_match_official_and_x_transformers(n):
    ours = alibi_slopes(n)
    torch.testing.assert_close(ours, torch.tensor(official_get_slopes(n), dtype=torch.float64), **F64)
    torch.testing.assert_close(ours, torch.tensor(xt.AlibiPositionalBias._get_slopes(n), dtype=torch.float64), **F64)


@pytest.mark.parametrize("n", [6, 8, 12, 16, 20, 32, 40])
def test_alibi_slopes_match_bloom(n):
    bloom = pytest.importorskip("transformers.models.bloom.modeling_bloom")
    torch.testing.assert_close(bloom._get_alibi_slopes(n, torch.device("cpu")).double(), alibi_slopes(n), **F32)


@pytest.mark.parametrize("n", [6, 8, 12])
def test_x_transformers_alibi_is_symmetric_form(n):
    module = xt.AlibiPositionalBias(heads=n)
    torch.testing.assert_close(module(10, 10).double(), alibi_bias(n, 10, form="symmetric"), **F32)
    # queries as the last 3 of 10 positions (KV cache): bottom-right aligned, like ours
    torch.testing.assert_close(xt.AlibiPositionalBias(heads=n)(3, 10).double(), alibi_bias(n, 3, 10, form="symmetric"), **F32)


@pytest.mark.parametrize("n", [8, 12])
def test_bloom_tensor_is_row_constant_form(n):
    bloom = pytest.importorskip("transformers.models.bloom.modeling_bloom")
    t = 11
    hf = bloom.build_alibi_tensor(torch.ones(1, t), n, torch.float32)  # (B·H, 1, T): slope · j
    torch.testing.assert_close(hf[:, 0, :].double(), alibi_bias(n, t, form="row_constant")[:, 0, :], **F32)


@pytest.mark.parametrize("n", [6, 8, 12, 16, 20, 32, 40])
def test_mpt_tensor_is_shifted_row_constant_form(n):
    # MPT builds 2^ceil(log2 n) slopes and concatenates odd then even positions: the same numbers as
    # the official rule (closest lower power of two, then interleaved extras).
    mpt = pytest.importorskip("transformers.models.mpt.modeling_mpt")
    t = 11
    hf = mpt.build_mpt_alibi_tensor(n, t)  # (H, 1, T): slope · (j − (T − 1))
    torch.testing.assert_close(hf[:, 0, :].double(), alibi_bias(n, t, form="mpt")[:, 0, :], **F32)


@pytest.mark.parametrize("n", [8, 12])
def test_falcon_tensor_in_bfloat16(n):
    # Falcon multiplies bfloat16 slopes by positions: equal to the row-constant form up to bf16 rounding
    # (relative error ≤ 2^−8).
    falcon = pytest.importorskip("transformers.models.falcon.modeling_falcon")
    t = 11
    hf = falcon.build_alibi_tensor(torch.ones(1, t), n, torch.float32)
    torch.testing.assert_close(hf[:, 0, :].double(), alibi_bias(n, t, form="row_constant")[:, 0, :], rtol=2**-8, atol=0)


def test_peer_alibi_forms_give_the_same_causal_attention():
    bloom = pytest.importorskip("transformers.models.bloom.modeling_bloom")
    mpt = pytest.importorskip("transformers.models.mpt.modeling_mpt")
    g = torch.Generator().manual_seed(0)
    q, k = (torch.randn(1, 12, 9, 16, generator=g, dtype=torch.float64) for _ in range(2))
    ref = attention_weights(q, k, causal=True, bias=alibi_bias(12, 9))
    for peer in (bloom.build_alibi_tensor(torch.ones(1, 9), 12, torch.float64)[None], mpt.build_mpt_alibi_tensor(12, 9)[None]):
        torch.testing.assert_close(attention_weights(q, k, causal=True, bias=peer.double()), ref, rtol=0, atol=1e-6)


# --- T5: transformers and x-transformers ------------------------------------------------------------


@pytest.mark.parametrize(("num_buckets", "max_distance"), [(32, 128), (16, 64), (64, 256), (32, 32)])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_t5_buckets_match_transformers(num_buckets, max_distance, bidirectional):
    hf = T5Attention._relative_position_bucket(REL, bidirectional=bidirectional, num_buckets=num_buckets, max_distance=max_distance)
    ours = relative_position_bucket(REL, bidirectional=bidirectional, num_buckets=num_buckets, max_distance=max_distance)
    torch.testing.assert_close(ours, hf, **EXACT)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_t5_buckets_match_x_transformers(bidirectional):
    # x-transformers names the flag `causal` (default True); causal = not bidirectional.
    xt_b = xt.RelativePositionBias._relative_position_bucket(REL, causal=not bidirectional)
    torch.testing.assert_close(relative_position_bucket(REL, bidirectional=bidirectional), xt_b, **EXACT)


def tiny_t5_config(is_decoder: bool):
    from transformers import T5Config

    return T5Config(d_model=16, d_kv=4, num_heads=4, d_ff=32, num_layers=2, is_decoder=is_decoder,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128)


@pytest.mark.parametrize("is_decoder", [False, True])
def test_t5_compute_bias_matches_transformers(is_decoder):
    attn = T5Attention(tiny_t5_config(is_decoder), has_relative_attention_bias=True)
    table = attn.relative_attention_bias.weight.detach().double()  # (32, H)
    with torch.no_grad():
        hf = attn.compute_bias(20, 20).double()[0]  # (H, T, T)
        hf_step = attn.compute_bias(1, 20, past_seen_tokens=19).double()[0]  # one query after 19 cached
    torch.testing.assert_close(t5_position_bias(table, 20, bidirectional=not is_decoder), hf, **EXACT)
    torch.testing.assert_close(t5_position_bias(table, 1, 20, bidirectional=not is_decoder), hf_step, **EXACT)


def test_t5_attention_is_unscaled_and_bias_lives_in_first_layer():
    # transformers: T5Attention.scaling == 1.0 (no 1/√D); only block 0 of a stack owns the table,
    # later layers receive its bias; the scale is folded into W_Q's init std (d_model·d_kv)^−1/2.
    from transformers import T5EncoderModel

    config = tiny_t5_config(False)
    assert T5Attention(config).scaling == 1.0
    model = T5EncoderModel(config)
    owners = [blk.layer[0].SelfAttention.has_relative_attention_bias for blk in model.encoder.block]
    assert owners == [True, False]
    q_std = model.encoder.block[0].layer[0].SelfAttention.q.weight.std().item()
    assert abs(q_std - (16 * 4) ** -0.5 * config.initializer_factor) < 0.03


def test_x_transformers_relative_position_bias_module():
    module = xt.RelativePositionBias(scale=2.0, causal=False, num_buckets=32, max_distance=128, heads=4)
    table = module.relative_attention_bias.weight.detach().double()
    torch.testing.assert_close(module(12, 12).detach().double(), 2.0 * t5_position_bias(table, 12), **EXACT)


# --- DeBERTa-v2: transformers' helpers and disentangled bias ----------------------------------------

dv2 = pytest.importorskip("transformers.models.deberta_v2.modeling_deberta_v2")


def test_deberta_relative_positions_match_transformers():
    q = torch.zeros(1, 7, 4)
    k = torch.zeros(1, 9, 4)
    torch.testing.assert_close(build_relative_position(7, 9)[None], dv2.build_relative_position(q, k), **EXACT)
    big_q, big_k = torch.zeros(1, 300, 1), torch.zeros(1, 300, 1)
    torch.testing.assert_close(build_relative_position(300, 300, bucket_size=256, max_position=512)[None],
                               dv2.build_relative_position(big_q, big_k, bucket_size=256, max_position=512), **EXACT)


@pytest.mark.parametrize(("bucket_size", "max_position"), [(256, 512), (64, 128), (32, 512)])
def test_deberta_log_buckets_match_transformers(bucket_size, max_position):
    r = torch.arange(-1000, 1001)
    hf = dv2.make_log_bucket_position(r, bucket_size, max_position)
    torch.testing.assert_close(make_log_bucket_position(r, bucket_size, max_position), hf.long(), **EXACT)


@pytest.mark.parametrize("share_att_key", [False, True])
def test_deberta_disentangled_bias_matches_transformers(share_att_key):
    # transformers' c2p + p2c (already divided by √(3D)) equals ours minus the c2c term; this also
    # pins the p2c index: the code reads δ(i, j), not the paper's δ(j, i).
    from transformers import DebertaV2Config

    h, d, t, span = 2, 4, 10, 4
    config = DebertaV2Config(hidden_size=h * d, num_attention_heads=h, relative_attention=True,
                             pos_att_type=["c2p", "p2c"], position_buckets=span, max_relative_positions=16,
                             share_att_key=share_att_key, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    torch.manual_seed(0)
    attn = dv2.DisentangledSelfAttention(config).double().eval()
    g = torch.Generator().manual_seed(1)
    q = torch.randn(h, t, d, generator=g, dtype=torch.float64)  # (B·H, T, D) as transformers lays it out
    k = torch.randn(h, t, d, generator=g, dtype=torch.float64)
    rel_emb = torch.randn(2 * span, h * d, generator=g, dtype=torch.float64)
    rel_pos = dv2.build_relative_position(q, k, bucket_size=span, max_position=16)
    with torch.no_grad():
        hf = attn.disentangled_attention_bias(q, k, rel_pos, rel_emb, 3)  # (B·H, T, T)
        pk_proj = attn.key_proj if share_att_key else attn.pos_key_proj
        pq_proj = attn.query_proj if share_att_key else attn.pos_query_proj
        k_r = pk_proj(rel_emb).view(2 * span, h, d).transpose(0, 1)  # (H, 2k, D)
        q_r = pq_proj(rel_emb).view(2 * span, h, d).transpose(0, 1)
    ours = disentangled_scores(q[None], k[None], q_r, k_r, rel_pos[0]) - q[None] @ k[None].transpose(-2, -1) / math.sqrt(3 * d)
    # transformers computes √(D·scale_factor) in float32 (`scaled_size_sqrt`): relative error ~1e-8.
    torch.testing.assert_close(ours[0], hf, rtol=1e-7, atol=1e-12)
    paper = disentangled_scores(q[None], k[None], q_r, k_r, rel_pos[0], p2c_index="paper")
    assert (paper - q[None] @ k[None].transpose(-2, -1) / math.sqrt(3 * d) - hf).abs().max() > 1e-3


def test_deberta_v1_relative_positions_match_transformers():
    dv1 = pytest.importorskip("transformers.models.deberta.modeling_deberta")
    q, k = torch.zeros(1, 5, 2), torch.zeros(1, 5, 2)
    torch.testing.assert_close(build_relative_position(5, 5)[None], dv1.build_relative_position(q, k), **EXACT)


# --- CoPE: x-transformers ---------------------------------------------------------------------------


def test_cope_matches_x_transformers():
    torch.manual_seed(0)
    b, h, t, d, p = 2, 3, 12, 8, 6
    module = xt.CoPE(dim=d, heads=h, max_pos=p).double()
    torch.nn.init.normal_(module.pos_emb)
    g = torch.Generator().manual_seed(1)
    q = torch.randn(b, h, t, d, generator=g, dtype=torch.float64)
    logits = (q @ torch.randn(b, h, t, d, generator=g, dtype=torch.float64).transpose(-2, -1)) / math.sqrt(d)
    logits = logits.masked_fill(~torch.ones(t, t, dtype=torch.bool).tril(), float("-inf"))
    with torch.no_grad():
        torch.testing.assert_close(cope_bias(q, logits, module.pos_emb), module(q, logits), **F64)


# --- Swin: the relative position bias table (pointer to the vision chapter) -------------------------


def test_swin_table_has_2m_minus_1_squared_rows():
    swin = pytest.importorskip("transformers.models.swin.modeling_swin")
    m, heads = 7, 3
    bias = swin.SwinRelativePositionBias(heads, (m, m))
    assert bias.relative_position_bias_table.shape == ((2 * m - 1) ** 2, heads)
    assert bias().shape[-3:] == (heads, m * m, m * m)
