"""peprep.encodings.mla: shapes, validation, the cache and positions (the math is in tests/claims/test_rope_mla.py)."""

from __future__ import annotations

import dataclasses

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
    rms_norm,
    rope_cos_sin,
)


def weights(seed: int = 0, **kw) -> MLAWeights:
    args = dict(d_c=16, d_nope=6, d_rope=8, d_v=5, d_cq=12)
    args.update(kw)
    return MLAWeights.random(32, 4, generator=torch.Generator().manual_seed(seed), **args)


def test_random_weights_have_the_paper_shapes():
    w = weights()
    assert w.w_dkv.shape == (16, 32) and w.w_kr.shape == (8, 32)
    assert w.w_uk.shape == (4, 6, 16) and w.w_uv.shape == (4, 5, 16)
    assert w.w_dq.shape == (12, 32) and w.w_uq.shape == (4, 6, 12) and w.w_qr.shape == (4, 8, 12)
    assert w.w_o.shape == (32, 20) and w.kv_norm.shape == (16,) and w.q_norm.shape == (12,)
    assert (w.n_heads, w.d_nope, w.d_rope, w.d_c) == (4, 6, 8, 16)
    no_q = weights(d_cq=None, norms=False)
    assert no_q.w_dq is None and no_q.q_norm is None and no_q.kv_norm is None and no_q.w_uq.shape == (4, 6, 32)


def test_inconsistent_weights_are_rejected():
    w = weights()
    with pytest.raises(ValueError):
        dataclasses.replace(w, w_uv=w.w_uv[:, :, :8])  # d_c mismatch
    with pytest.raises(ValueError):
        dataclasses.replace(w, w_qr=w.w_qr[:, :6])  # rotary dims of q and k differ
    with pytest.raises(ValueError):
        dataclasses.replace(w, w_kr=w.w_kr[:7], w_qr=w.w_qr[:, :7])  # odd rotary dimension
    with pytest.raises(ValueError):
        dataclasses.replace(w, w_dq=None)  # queries would read d = 32 inputs, W^UQ reads 12
    with pytest.raises(ValueError):
        dataclasses.replace(w, w_o=w.w_o[:, :19])


def test_rms_norm():
    x = torch.tensor([[3.0, 4.0]])
    assert torch.equal(rms_norm(x, None), x)
    out = rms_norm(x, torch.tensor([1.0, 2.0]), eps=0.0)
    rms = (12.5) ** 0.5
    assert torch.allclose(out, torch.tensor([[3 / rms, 8 / rms]]))


def test_component_shapes():
    w = weights(1)
    h = torch.randn(2, 5, 32, dtype=torch.float64)
    cos, sin = rope_cos_sin(torch.arange(5), 8)
    assert cos.shape == (5, 8)
    c_kv, k_r = compress_kv(h, w, cos, sin)
    assert c_kv.shape == (2, 5, 16) and k_r.shape == (2, 5, 8)
    q_c, q_r = queries(h, w, cos, sin)
    assert q_c.shape == (2, 4, 5, 6) and q_r.shape == (2, 4, 5, 8)
    keys, values = expand_keys_values(c_kv, k_r, w)
    assert keys.shape == (2, 4, 5, 14) and values.shape == (2, 4, 5, 5)
    assert absorbed_query_matrix(w).shape == (4, 12, 16)


def test_rope_cos_sin_checks_frequency_count_and_applies_factor():
    cos, sin = rope_cos_sin(torch.arange(3), 8, attention_factor=2.0)
    assert torch.allclose(cos[0], torch.full((8,), 2.0))
    with pytest.raises(ValueError):
        rope_cos_sin(torch.arange(3), 8, frequencies=torch.ones(3, dtype=torch.float64))


def test_attention_output_and_cache_shapes_and_default_positions():
    w = weights(2)
    h = torch.randn(1, 6, 32, dtype=torch.float64)
    out, (c_kv, k_r) = mla_attention(h, w)
    assert out.shape == (1, 6, 32) and c_kv.shape == (1, 6, 16) and k_r.shape == (1, 6, 8)
    # continuing from a cache uses positions past_len + arange(T) by default
    _, cache = mla_attention(h[:, :4], w)
    out_tail, _ = mla_attention(h[:, 4:], w, cache=cache)
    explicit, _ = mla_attention(h[:, 4:], w, torch.tensor([4, 5]), cache=cache)
    assert torch.allclose(out_tail, out[:, 4:], atol=1e-10) and torch.equal(out_tail, explicit)
    # non-causal: the first token now sees the others
    out_full, _ = mla_attention(h, w, causal=False)
    assert not torch.allclose(out_full[:, 0], out[:, 0])


def test_half_layout_changes_the_rotation_but_not_the_content_part():
    w = weights(3)
    h = torch.randn(1, 5, 32, dtype=torch.float64)
    a, _ = mla_attention(h, w, layout="interleaved")
    b, _ = mla_attention(h, w, layout="half")
    assert torch.allclose(a[:, 0], b[:, 0], atol=1e-12)  # first token attends only to itself
    assert not torch.allclose(a, b)  # same weights, different pairs: a different model


def test_softmax_scale_and_cache_element_counts():
    assert mla_softmax_scale(128, 64) == pytest.approx(192 ** -0.5)
    assert mla_softmax_scale(128, 64, factor=1.0, mscale_all_dim=1.0) == pytest.approx(192 ** -0.5)  # s <= 1
    assert kv_cache_elements("mha", n_heads=2, head_dim=3, n_layers=4) == 48
    assert kv_cache_elements("gqa", n_groups=2, head_dim=3) == 12
    assert kv_cache_elements("mqa", head_dim=3, n_layers=2) == 12
    assert kv_cache_elements("mla", d_c=5, d_rope=2, n_layers=3) == 21
    with pytest.raises(ValueError):
        kv_cache_elements("gqa", head_dim=3)
    with pytest.raises(ValueError):
        kv_cache_elements("mha", n_heads=2)
    with pytest.raises(ValueError):
        kv_cache_elements("other")  # type: ignore[arg-type]
