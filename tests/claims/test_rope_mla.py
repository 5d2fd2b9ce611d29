"""Claims about DeepSeek's Multi-head Latent Attention (MLA) and its decoupled RoPE (chapter 4, rope.mla-*).

Reference: peprep.encodings.mla (DeepSeek-V2, arXiv 2405.04434, §2.1 and Appendix C). Peer: transformers
5.25 `DeepseekV3Attention` / `DeepseekV3RotaryEmbedding` / `DeepseekV3Config` (and `DeepseekV2Config`).

Tolerances: our own algebra runs in float64 (1e-10 on O(1) numbers). transformers' RMSNorm computes
its variance in float32 even for float64 inputs, so comparisons with the peer use 1e-6.
"""

from __future__ import annotations

import math

import pytest
import torch

from peprep.encodings.mla import (
    MLAWeights,
    absorbed_query_matrix,
    compress_kv,
    expand_keys_values,
    kv_cache_elements,
    mla_attention,
    mla_softmax_scale,
    queries,
    rope_cos_sin,
)
from peprep.encodings.rope import apply_rotary, half_from_interleaved_index, inv_freq, rotation_matrix
from peprep.encodings.rope_scaling import YarnScaling, yarn_frequencies, yarn_mscale

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=F64)


def small_weights(seed: int = 0, *, d_cq: int | None = 12, norms: bool = True) -> MLAWeights:
    return MLAWeights.random(32, 4, d_c=16, d_nope=6, d_rope=8, d_v=5, d_cq=d_cq, norms=norms, generator=gen(seed))


# --- why the up-projection can be absorbed without RoPE, and not with it ------------------------------


def test_without_rope_up_projection_absorbs_into_query():
    """q^C_i . k^C_i = (W^UQ_i c^Q)^T (W^UK_i c^KV) = c^Q^T (W^UQ_i^T W^UK_i) c^KV: one matrix per head,
    computed once, scores every (query, cached latent) pair. Same on the value side: W^O_i W^UV_i."""
    w = small_weights(1)
    c_q, c_kv = randn(7, 12, seed=2), randn(9, 16, seed=3)  # 7 query latents, 9 cached KV latents
    absorbed = absorbed_query_matrix(w)  # (H, d_c', d_c), position-free
    for i in range(w.n_heads):
        explicit = (c_q @ w.w_uq[i].T) @ (c_kv @ w.w_uk[i].T).T  # q^C · k^C with k^C materialised
        assert torch.allclose(explicit, c_q @ absorbed[i] @ c_kv.T, atol=1e-10)
    # value side: sum_j a_j W^O_i W^UV_i c_j = (W^O_i W^UV_i)(sum_j a_j c_j): v^C never materialised
    a = torch.softmax(randn(9, seed=4), dim=0)
    w_o_heads = w.w_o.view(32, w.n_heads, 5)  # W^O split by head input blocks
    for i in range(w.n_heads):
        explicit = w_o_heads[:, i] @ ((a[:, None] * (c_kv @ w.w_uv[i].T)).sum(0))
        assert torch.allclose(explicit, (w_o_heads[:, i] @ w.w_uv[i]) @ (a @ c_kv), atol=1e-10)


def test_rope_on_content_keys_leaves_no_fixed_matrix():
    """If RoPE rotated q^C and k^C themselves, the score would be c^Q^T W^UQ^T R_m^T R_n W^UK c^KV: the
    middle matrix depends on the pair (m, n) — only through n - m, but it is a different matrix for
    every offset, so no single W^UQ^T W^UK can be precomputed and every cached key would have to be
    rotated, i.e. recomputed, for each new query (DeepSeek-V2 §2.1.3)."""
    w = small_weights(5)
    w_uq, w_uk = w.w_uq[0], w.w_uk[0]  # head 0: (d_h, d_c'), (d_h, d_c); d_h = 6
    theta = inv_freq(6)

    def middle(m: int, n: int) -> torch.Tensor:
        return w_uq.T @ rotation_matrix(m, theta).T @ rotation_matrix(n, theta) @ w_uk  # (d_c', d_c)

    c_q, c_kv = randn(12, seed=6), randn(16, seed=7)
    q_rot = rotation_matrix(3, theta) @ (w_uq @ c_q)
    k_rot = rotation_matrix(11, theta) @ (w_uk @ c_kv)
    assert torch.allclose(q_rot @ k_rot, c_q @ middle(3, 11) @ c_kv, atol=1e-10)  # the form above is right
    assert torch.allclose(middle(3, 11), middle(0, 8), atol=1e-10)  # relative: depends on n - m only
    assert torch.allclose(middle(3, 11), middle(40, 48), atol=1e-10)
    unrotated = absorbed_query_matrix(w)[0]
    assert torch.allclose(middle(5, 5), unrotated, atol=1e-10)  # offset 0: the plain absorbed matrix
    # but each offset needs its own matrix: a query at m = 20 against keys at n = 0 .. 19
    mats = torch.stack([middle(20, n) for n in range(20)])
    spread = (mats - mats.mean(0)).norm() / mats.norm()
    assert spread > 0.3
    for a in range(20):  # pairwise different: no two offsets share a matrix
        for b in range(a + 1, 20):
            assert (mats[a] - mats[b]).norm() > 1e-3 * unrotated.norm()


def test_decoupled_score_is_content_plus_relative_rope_part():
    """Decoupled RoPE: [q^C; q^R] . [k^C; k^R] = q^C.k^C (position-free, absorbable) + q^R.k^R (rotated,
    relative: shifting every position leaves it unchanged, moving only the query changes it)."""
    w = small_weights(8)
    h = randn(2, 6, 32, seed=9)

    def parts(offset: int, query_shift: int = 0):
        pos = torch.arange(6) + offset
        cos_k, sin_k = rope_cos_sin(pos, w.d_rope, angle_dtype=F64)
        cos_q, sin_q = rope_cos_sin(pos + query_shift, w.d_rope, angle_dtype=F64)
        c_kv, k_r = compress_kv(h, w, cos_k, sin_k)
        q_c, q_r = queries(h, w, cos_q, sin_q)
        keys, _ = expand_keys_values(c_kv, k_r, w)
        full = torch.cat((q_c, q_r), dim=-1) @ keys.transpose(-1, -2)
        content = q_c @ keys[..., : w.d_nope].transpose(-1, -2)
        rope_part = q_r @ k_r.unsqueeze(1).transpose(-1, -2)
        return full, content, rope_part

    full, content, rope_part = parts(0)
    assert torch.allclose(full, content + rope_part, atol=1e-10)
    full_shifted, content_shifted, rope_shifted = parts(1000)
    assert torch.allclose(full_shifted, full, atol=1e-9)  # relative position only
    assert torch.allclose(content_shifted, content, atol=1e-12)
    _, content_moved, rope_moved = parts(0, query_shift=3)
    assert torch.allclose(content_moved, content, atol=1e-12)  # the content part never sees positions
    assert (rope_moved - rope_part).abs().max() > 1e-2  # the rotary part does


# --- what is cached, and absorbed attention on the cache -----------------------------------------------


@pytest.mark.parametrize("d_cq", [12, None])
def test_absorbed_attention_on_latent_cache_equals_naive(d_cq):
    """Scoring on c^KV with W^UQ_i^T W^UK_i and applying W^UV_i after the weighted sum (Appendix C) gives
    the same output as recovering k^C, v^C (eqs. 10-11, 17-18), with and without query compression."""
    w = small_weights(10, d_cq=d_cq)
    h = randn(2, 9, 32, seed=11)
    naive, _ = mla_attention(h, w, absorb=False)
    absorbed, _ = mla_attention(h, w, absorb=True)
    assert torch.allclose(naive, absorbed, atol=1e-10)
    assert naive.abs().max() > 0.1


def test_cache_holds_latent_and_one_shared_rope_key():
    """DeepSeek-V2/V3 sizes (d_c = 512, d_h = 128, d_h^R = 64): the cache keeps c^KV (512) and one
    rotated k^R (64) per token, 576 numbers whatever the number of heads; decoding token by token on that
    cache (absorbed) reproduces the full causal pass, and every head sees the same rotary key."""
    w = MLAWeights.random(64, 3, d_c=512, d_nope=128, d_rope=64, d_v=128, d_cq=96, generator=gen(12))
    h = randn(1, 8, 64, seed=13)
    full, _ = mla_attention(h, w)
    out, cache = mla_attention(h[:, :5], w, absorb=True)  # prefill 5 tokens
    outs = [out]
    for t in range(5, 8):
        out, cache = mla_attention(h[:, t : t + 1], w, cache=cache, absorb=True)
        outs.append(out)
    assert torch.allclose(torch.cat(outs, dim=1), full, atol=1e-10)
    c_kv, k_r = cache
    assert c_kv.shape == (1, 8, 512) and k_r.shape == (1, 8, 64)
    assert c_kv.shape[-1] + k_r.shape[-1] == 576 == kv_cache_elements("mla", d_c=512, d_rope=64)
    keys, _ = expand_keys_values(c_kv, k_r, w)  # naive keys (B, H, T, 128 + 64)
    assert keys.shape == (1, 3, 8, 192)
    assert torch.equal(keys[:, 0, :, 128:], keys[:, 1, :, 128:]) and torch.equal(keys[:, 1, :, 128:], keys[:, 2, :, 128:])
    assert not torch.allclose(keys[:, 0, :, :128], keys[:, 1, :, :128])  # content keys differ per head


def test_kv_cache_table_of_deepseek_v2():
    """DeepSeek-V2 Table 1 (elements per token): MHA 2 n_h d_h l, GQA 2 n_g d_h l, MQA 2 d_h l,
    MLA (d_c + d_h^R) l ≈ 9/2 d_h l with d_c = 4 d_h, d_h^R = d_h / 2 — 'GQA with only 2.25 groups'.
    Appendix D.2 / Table 9: small MoE (16 heads of 128, 27 layers) 110.6K vs 15.6K (14%); large MoE
    MLA 34.6K over 60 layers vs MHA 860.2K (4%)."""
    d_h, n_h = 128, 128
    d_c, d_r = 512, 64
    assert (d_c, d_r) == (4 * d_h, d_h // 2)
    per_layer = kv_cache_elements("mla", d_c=d_c, d_rope=d_r)
    assert per_layer == 576 and per_layer / d_h == 4.5
    assert per_layer == kv_cache_elements("gqa", n_groups=1, head_dim=d_h) * 2.25  # 2 * 2.25 * 128 = 576
    mha = kv_cache_elements("mha", n_heads=n_h, head_dim=d_h)
    assert mha == 32768 and per_layer / mha == pytest.approx(0.017578125)  # 1.76 % of MHA per layer
    assert kv_cache_elements("mqa", head_dim=d_h) == 256
    # DeepSeek-V2 (60 layers) and DeepSeek-V3 (61 layers), whole model per token
    assert kv_cache_elements("mla", d_c=d_c, d_rope=d_r, n_layers=60) == 34560
    assert kv_cache_elements("mla", d_c=d_c, d_rope=d_r, n_layers=61) == 35136
    # Table 9
    small_mha = kv_cache_elements("mha", n_heads=16, head_dim=128, n_layers=27)
    small_mla = kv_cache_elements("mla", d_c=512, d_rope=64, n_layers=27)
    assert round(small_mha / 1000, 1) == 110.6 and round(small_mla / 1000, 1) == 15.6
    assert round(100 * small_mla / small_mha) == 14
    large_mla = kv_cache_elements("mla", d_c=512, d_rope=64, n_layers=60)
    assert round(large_mla / 1000, 1) == 34.6 and round(100 * large_mla / 860_200) == 4
    with pytest.raises(ValueError):
        kv_cache_elements("mla", d_c=512)


def test_deepseek_yarn_temperature_numbers():
    """DeepSeek-V2 §3.1.4: s = 40 and sqrt(t) = 0.0707 ln s + 1 = transformers' / DeepSeek's mscale with
    mscale = 0.707 (0.1 · 0.707 = 0.0707); mscale = 1 (DeepSeek-V3's config) gives 0.1 ln s + 1. The code
    multiplies the softmax scale 1/sqrt(192) by mscale^2."""
    s = 40.0
    assert yarn_mscale(s, 0.707) == pytest.approx(0.0707 * math.log(s) + 1)
    assert yarn_mscale(s, 0.707) == pytest.approx(1.2608, abs=1e-4)
    assert yarn_mscale(s, 1.0) == pytest.approx(1.3689, abs=1e-4)
    assert mla_softmax_scale(128, 64) == pytest.approx(1 / math.sqrt(192))
    assert mla_softmax_scale(128, 64, factor=s, mscale_all_dim=0.707) == pytest.approx(1.2608**2 / math.sqrt(192), rel=1e-4)
    assert yarn_mscale(s, 0.707) ** 2 == pytest.approx(1.5896, abs=1e-4)
    assert yarn_mscale(s, 1.0) ** 2 == pytest.approx(1.8739, abs=1e-4)


# --- differential: transformers' DeepSeek-V3 attention ------------------------------------------------

transformers = pytest.importorskip("transformers")

from transformers import DeepseekV2Config, DeepseekV3Config  # noqa: E402
from transformers.cache_utils import DynamicCache  # noqa: E402
from transformers.models.deepseek_v3.modeling_deepseek_v3 import (  # noqa: E402
    DeepseekV3Attention,
    DeepseekV3RotaryEmbedding,
    apply_rotary_pos_emb_interleave,
)


def test_transformers_config_defaults_are_deepseek_v3_sizes():
    """DeepseekV3Config() defaults are DeepSeek-V3's MLA sizes (they match the official
    inference/configs/config_671B.json): d_c = 512, d_h^R = 64, d_h = 128, d_v = 128, query latent 1536,
    128 heads, 61 layers; q/k head 192; RoPE is computed over head_dim = qk_rope_head_dim = 64 only; interleaved
    pairs by default. DeepseekV2Config has the same MLA sizes."""
    c = DeepseekV3Config()
    assert (c.kv_lora_rank, c.qk_rope_head_dim, c.qk_nope_head_dim, c.v_head_dim) == (512, 64, 128, 128)
    assert (c.q_lora_rank, c.num_attention_heads, c.qk_head_dim, c.num_hidden_layers) == (1536, 128, 192, 61)
    assert c.head_dim == c.qk_rope_head_dim == 64 and c.rope_interleave is True
    assert DeepseekV3RotaryEmbedding(c).inv_freq.shape == (32,)  # 64 rotated channels = 32 pairs
    c2 = DeepseekV2Config()
    assert (c2.kv_lora_rank, c2.qk_rope_head_dim, c2.qk_nope_head_dim, c2.v_head_dim, c2.q_lora_rank) == (512, 64, 128, 128, 1536)


def tiny_config(**kw) -> DeepseekV3Config:
    base = dict(hidden_size=32, num_attention_heads=4, num_key_value_heads=4, kv_lora_rank=16, q_lora_rank=12,
                qk_rope_head_dim=8, qk_nope_head_dim=6, v_head_dim=5, num_hidden_layers=1, vocab_size=16)
    cfg = DeepseekV3Config(**{**base, **kw})
    cfg._attn_implementation = "eager"
    return cfg


def peer_layer(cfg: DeepseekV3Config, seed: int) -> DeepseekV3Attention:
    torch.manual_seed(seed)
    layer = DeepseekV3Attention(cfg, layer_idx=0).double().eval()
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if "layernorm" in name:  # initialised to ones: perturb so the norms are really tested
                p.copy_(1 + 0.2 * torch.randn_like(p))
    return layer


def weights_from_peer(layer: DeepseekV3Attention) -> MLAWeights:
    """Split transformers' fused projections into the paper's matrices (our own mapping, tested here)."""
    cfg = layer.config
    h, dn, dr, dv, dc = cfg.num_attention_heads, cfg.qk_nope_head_dim, cfg.qk_rope_head_dim, cfg.v_head_dim, cfg.kv_lora_rank
    kv_a = layer.kv_a_proj_with_mqa.weight.detach()  # (d_c + d_h^R, d): [W^DKV; W^KR]
    kv_b = layer.kv_b_proj.weight.detach().view(h, dn + dv, dc)  # per head [W^UK_i; W^UV_i]
    if layer.q_lora_rank is None:
        q_b, w_dq, q_norm = layer.q_proj.weight.detach(), None, None
    else:
        q_b = layer.q_b_proj.weight.detach()
        w_dq, q_norm = layer.q_a_proj.weight.detach(), layer.q_a_layernorm.weight.detach()
    q_b = q_b.view(h, dn + dr, -1)  # per head [W^UQ_i; W^QR_i]
    return MLAWeights(
        w_dkv=kv_a[:dc], w_kr=kv_a[dc:], w_uk=kv_b[:, :dn], w_uv=kv_b[:, dn:], w_uq=q_b[:, :dn], w_qr=q_b[:, dn:],
        w_o=layer.o_proj.weight.detach(), w_dq=w_dq, kv_norm=layer.kv_a_layernorm.weight.detach(), q_norm=q_norm,
        eps=cfg.rms_norm_eps,
    )


def run_peer(layer: DeepseekV3Attention, h: torch.Tensor):
    b, t, _ = h.shape
    rotary = DeepseekV3RotaryEmbedding(layer.config)
    cos, sin = rotary(h, torch.arange(t)[None].expand(b, -1))
    mask = torch.full((t, t), float("-inf"), dtype=h.dtype).triu(1)[None, None].expand(b, 1, t, t)
    cache = DynamicCache(config=layer.config)
    with torch.no_grad():
        out, _ = layer(h, (cos, sin), mask, cache=cache)
    return out, cache, rotary


@pytest.mark.parametrize("interleave,q_lora_rank", [(True, 12), (False, 12), (True, None)])
def test_matches_transformers_deepseek_v3_attention(interleave, q_lora_rank):
    """Our reference (paper equations, peprep RoPE) = transformers' DeepseekV3Attention: same output,
    softmax scale 1/sqrt(qk_nope_head_dim + qk_rope_head_dim), and a cache of the normed latent plus ONE
    rotary key head ((B, 1, T, d_c) and (B, 1, T, d_h^R)), not per-head keys and values."""
    cfg = tiny_config(rope_interleave=interleave, q_lora_rank=q_lora_rank)
    layer = peer_layer(cfg, seed=20)
    assert layer.scaling == pytest.approx((6 + 8) ** -0.5) == pytest.approx(mla_softmax_scale(6, 8))
    h = randn(2, 7, 32, seed=21)
    out_peer, cache, _ = run_peer(layer, h)
    w = weights_from_peer(layer)
    layout = "interleaved" if interleave else "half"
    for absorb in (False, True):
        out, (c_kv, k_r) = mla_attention(h, w, layout=layout, absorb=absorb)
        assert torch.allclose(out, out_peer, atol=1e-6), (absorb, (out - out_peer).abs().max())
    latent, rope_key = cache.layers[0].keys, cache.layers[0].values
    assert latent.shape == (2, 1, 7, 16) and rope_key.shape == (2, 1, 7, 8)  # one head each
    assert torch.allclose(latent[:, 0], c_kv, atol=1e-6)
    order = half_from_interleaved_index(8) if interleave else torch.arange(8)
    assert torch.allclose(rope_key[:, 0], k_r[..., order], atol=1e-6)


def test_transformers_interleave_is_interleaved_rotation_in_split_half_order():
    """DeepSeek rotates adjacent pairs (official code: view_as_complex); transformers' interleave path
    returns that rotation with channels reordered to [even pairs' first coords, second coords] — the same
    permutation for q^R and k^R, so q^R . k^R is exactly the interleaved RoPE score."""
    cfg = tiny_config()
    rotary = DeepseekV3RotaryEmbedding(cfg)
    q, k = torch.randn(2, 4, 5, 8, generator=gen(30)), torch.randn(2, 1, 5, 8, generator=gen(31))
    cos, sin = rotary(q, torch.arange(5)[None].expand(2, -1))
    q_peer, k_peer = apply_rotary_pos_emb_interleave(q, k, cos, sin)
    cos_i, sin_i = rope_cos_sin(torch.arange(5), 8, base=cfg.rope_parameters["rope_theta"])
    q_ref = apply_rotary(q, cos_i.float(), sin_i.float(), layout="interleaved")
    k_ref = apply_rotary(k, cos_i.float(), sin_i.float(), layout="interleaved")
    order = half_from_interleaved_index(8)
    assert torch.allclose(q_peer, q_ref[..., order], atol=1e-6) and torch.allclose(k_peer, k_ref[..., order], atol=1e-6)
    assert torch.allclose(q_peer @ k_peer.transpose(-1, -2), q_ref @ k_ref.transpose(-1, -2), atol=1e-5)


@pytest.mark.parametrize("mscale,mscale_all_dim", [(0.707, 0.707), (1.0, 0.707)])
def test_transformers_yarn_only_on_rope_part_with_mscale_in_softmax(mscale, mscale_all_dim):
    """DeepSeek's YaRN: frequencies change only for the d_h^R rotary channels (the rotary module's
    head_dim is qk_rope_head_dim), the softmax scale is multiplied by mscale(s, mscale_all_dim)^2, and
    cos/sin by mscale(s, mscale) / mscale(s, mscale_all_dim) (= 1 when equal, as in DeepSeek's configs)."""
    s, orig = 40.0, 8
    cfg = tiny_config(max_position_embeddings=int(s * orig), rope_parameters={
        "rope_type": "yarn", "rope_theta": 10000.0, "factor": s, "original_max_position_embeddings": orig,
        "beta_fast": 32, "beta_slow": 1, "mscale": mscale, "mscale_all_dim": mscale_all_dim})
    layer = peer_layer(cfg, seed=40)
    out_peer, _, rotary = run_peer(layer, randn(1, 6, 32, seed=41))
    ours, factor = yarn_frequencies(YarnScaling(factor=s, original_max_position_embeddings=orig, mscale=mscale,
                                                mscale_all_dim=mscale_all_dim), rotary_dim=8)
    assert rotary.inv_freq.shape == (4,)  # d_h^R / 2 pairs: the 6 content channels have no frequencies
    assert torch.allclose(rotary.inv_freq.double(), ours, rtol=1e-6)
    assert rotary.attention_scaling == pytest.approx(factor)
    assert factor == pytest.approx(yarn_mscale(s, mscale) / yarn_mscale(s, mscale_all_dim))
    scale = mla_softmax_scale(6, 8, factor=s, mscale_all_dim=mscale_all_dim)
    assert layer.scaling == pytest.approx(scale)
    assert scale == pytest.approx((0.1 * mscale_all_dim * math.log(s) + 1) ** 2 / math.sqrt(14))
    out, _ = mla_attention(randn(1, 6, 32, seed=41), weights_from_peer(layer), frequencies=ours,
                           attention_factor=factor, softmax_scale=scale, absorb=True)
    assert torch.allclose(out, out_peer, atol=1e-6)


def test_deepseek_yarn_frequencies_at_full_size():
    """DeepSeek's official precompute_freqs_cis (inference/model.py, transcribed here): dim = qk_rope_head_dim
    = 64, base 10000, rope_factor 40, original_seq_len 4096, beta_fast 32, beta_slow 1: the YaRN ramp acts on
    those 32 frequencies only. It equals our yarn_frequencies and transformers' DeepseekV3RotaryEmbedding
    with the Hub rope_scaling of DeepSeek-V3 (mscale = mscale_all_dim = 1.0, so cos/sin are not scaled)."""
    dim, base, factor, orig = 64, 10000.0, 40.0, 4096

    def correction_dim(rot: float) -> float:
        return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(base))

    low, high = max(math.floor(correction_dim(32)), 0), min(math.ceil(correction_dim(1)), dim - 1)
    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=F64) / dim))
    smooth = 1 - ((torch.arange(dim // 2, dtype=F64) - low) / (high - low)).clamp(0, 1)
    official = freqs / factor * (1 - smooth) + freqs * smooth
    assert official.shape == (32,) and (low, high) == (10, 23)
    assert torch.allclose(official[:10], freqs[:10]) and torch.allclose(official[23:], freqs[23:] / factor)
    ours, attention = yarn_frequencies(YarnScaling(factor=factor, original_max_position_embeddings=orig, mscale=1.0,
                                                   mscale_all_dim=1.0), rotary_dim=dim)
    assert torch.allclose(ours, official, rtol=1e-12) and attention == 1.0
    cfg = DeepseekV3Config(max_position_embeddings=163840, rope_parameters={
        "rope_type": "yarn", "rope_theta": base, "factor": factor, "original_max_position_embeddings": orig,
        "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0})
    rotary = DeepseekV3RotaryEmbedding(cfg)
    assert rotary.inv_freq.shape == (32,) and rotary.attention_scaling == pytest.approx(1.0)
    assert torch.allclose(rotary.inv_freq.double(), official, rtol=1e-6)
    assert DeepseekV3Attention(tiny_config(rope_parameters=cfg.rope_parameters), 0).scaling == pytest.approx(
        yarn_mscale(factor, 1.0) ** 2 / math.sqrt(6 + 8))
