"""Claims of chapter 7 (engineering) about position ids in practice: padding, packing, KV caches per
family, speculative decoding, dynamic scaling with a cache, layout conversion of partial rotary.

One attention layer whose position handling is one of four families, driven by explicit position ids
(B, T) and a boolean mask (B, T_q, T_k); float64, tolerance 1e-10 on O(1) outputs.

    absolute  x + P[pos] at the input (learned table)          rope   rotate q, k at pos (half layout)
    alibi     bias −m·(pos_i − pos_j)                          t5     bias b[bucket(pos_j − pos_i)]
"""

from __future__ import annotations

import math

import torch

from peprep.encodings.alibi import alibi_slopes
from peprep.encodings.attention import causal_mask
from peprep.encodings.position_ids import (next_position_ids, packed_causal_mask, packed_position_ids,
                                           padded_causal_mask, position_ids_from_attention_mask)
from peprep.encodings.rope import apply_rotary, cos_sin, half_from_interleaved_index, inv_freq, rope
from peprep.encodings.rope_scaling import DynamicNTKScaling, dynamic_ntk_frequencies
from peprep.encodings.t5_bias import relative_position_bucket

F64 = torch.float64
H, D, C = 2, 8, 16
TOL = 1e-10
FAMILIES = ("absolute", "rope", "alibi", "t5")


def randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


W_Q, W_K, W_V = randn(C, C, seed=1), randn(C, C, seed=2), randn(C, C, seed=3)
TABLE = randn(64, C, seed=4)  # a learned absolute table
T5_TABLE = randn(32, H, seed=5)


def heads(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    b, t, _ = x.shape
    return (x @ w).view(b, t, H, D).transpose(1, 2)  # (B, H, T, D)


def layer(x: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor, family: str) -> torch.Tensor:
    """One attention layer; x (B, T, C), pos (B, T) long, mask (B, T, T) bool -> (B, H, T, D)."""
    if family == "absolute":
        x = x + TABLE[pos]
    q, k, v = heads(x, W_Q), heads(x, W_K), heads(x, W_V)
    bias = torch.zeros(x.shape[0], H, x.shape[1], x.shape[1], dtype=F64)
    if family == "rope":
        q, k = rope(q, pos, layout="half"), rope(k, pos, layout="half")
    elif family == "alibi":
        bias = -alibi_slopes(H)[:, None, None] * (pos[:, None, :, None] - pos[:, None, None, :]).to(F64)
    elif family == "t5":
        buckets = relative_position_bucket(pos[:, None, :] - pos[:, :, None], bidirectional=False)  # key − query
        bias = T5_TABLE[buckets].permute(0, 3, 1, 2)
    logits = q @ k.transpose(-2, -1) / math.sqrt(D) + bias
    return logits.masked_fill(~mask[:, None], float("-inf")).softmax(-1) @ v


def test_left_and_right_padding_number_real_tokens_alike():
    """cumsum(mask) − 1 numbers the real tokens 0, 1, 2, … whichever side the padding is on; pads get 0;
    the next decoding position is the number of real tokens, not T."""
    left = torch.tensor([[0, 0, 1, 1, 1]])
    right = torch.tensor([[1, 1, 1, 0, 0]])
    assert torch.equal(position_ids_from_attention_mask(left), torch.tensor([[0, 0, 0, 1, 2]]))
    assert torch.equal(position_ids_from_attention_mask(right), torch.tensor([[0, 1, 2, 0, 0]]))
    assert torch.equal(next_position_ids(left), torch.tensor([[3]]))


def test_left_padding_with_mask_positions_matches_unpadded_run():
    """With a padding-aware causal mask and positions from the mask, every family gives the real tokens of
    a left-padded row exactly what it gives the same tokens alone."""
    x = randn(1, 3, C, seed=10)
    padded = torch.cat((randn(1, 2, C, seed=11), x), 1)  # two pad tokens (random garbage) in front
    attention_mask = torch.tensor([[0, 0, 1, 1, 1]])
    for family in FAMILIES:
        alone = layer(x, torch.arange(3)[None], causal_mask(3, 3)[None], family)
        out = layer(padded, position_ids_from_attention_mask(attention_mask), padded_causal_mask(attention_mask), family)
        assert torch.allclose(out[..., 2:, :], alone, atol=TOL), family


def test_counting_pads_as_positions_breaks_only_the_absolute_family():
    """Numbering a left-padded row 0 … T−1 (pads counted) shifts every real token by the pad count: absolute
    embeddings change; RoPE, ALiBi and T5 see only pos_i − pos_j, which a constant shift leaves alone."""
    x = randn(1, 3, C, seed=10)
    padded = torch.cat((randn(1, 2, C, seed=11), x), 1)
    mask = padded_causal_mask(torch.tensor([[0, 0, 1, 1, 1]]))
    for family in FAMILIES:
        alone = layer(x, torch.arange(3)[None], causal_mask(3, 3)[None], family)
        out = layer(padded, torch.arange(5)[None], mask, family)
        same = torch.allclose(out[..., 2:, :], alone, atol=TOL)
        assert same == (family != "absolute"), family


def test_packed_row_equals_separate_documents():
    """Packing [3, 2, 4] tokens with a block-diagonal causal mask and positions restarting per document gives
    each document exactly its separate output, for every family. Without the reset, only the absolute family
    changes (the others are shift-invariant inside a block); without the mask, every family leaks."""
    lens = [3, 2, 4]
    docs = [randn(1, n, C, seed=20 + n) for n in lens]
    row = torch.cat(docs, 1)
    reset = packed_position_ids(lens)
    block = packed_causal_mask(reset)
    plain = causal_mask(9, 9)[None]
    for family in FAMILIES:
        separate = torch.cat([layer(d, torch.arange(d.shape[1])[None], causal_mask(d.shape[1], d.shape[1])[None], family)
                              for d in docs], 2)
        assert torch.allclose(layer(row, reset, block, family), separate, atol=TOL), family
        no_reset = torch.allclose(layer(row, torch.arange(9)[None], block, family), separate, atol=TOL)
        assert no_reset == (family != "absolute"), family
        assert not torch.allclose(layer(row, reset, plain, family), separate, atol=1e-3), family


def rope_step(q, k, v, cache_k, cache_v, past: int):
    """RoPE attention for new tokens at past, past+1, …; keys cached after rotation; bottom-right causal."""
    t = q.shape[2]
    pos = torch.arange(past, past + t)
    k_all = torch.cat((cache_k, rope(k, pos, layout="half")), 2)
    v_all = torch.cat((cache_v, v), 2)
    logits = rope(q, pos, layout="half") @ k_all.transpose(-2, -1) / math.sqrt(D)
    out = logits.masked_fill(~causal_mask(t, past + t), float("-inf")).softmax(-1) @ v_all
    return out, k_all, v_all


def full_rope(q, k, v):
    pos = torch.arange(q.shape[2])
    logits = rope(q, pos, layout="half") @ rope(k, pos, layout="half").transpose(-2, -1) / math.sqrt(D)
    n = q.shape[2]
    return logits.masked_fill(~causal_mask(n, n), float("-inf")).softmax(-1) @ v


def test_chunked_prefill_then_decode_equals_the_full_pass():
    """Prefill in chunks of 4 and 3, then decode 3 tokens one by one, with rotated keys cached: every output
    row equals the one-shot causal pass (the causal mask of each step is aligned bottom-right)."""
    q, k, v = randn(1, H, 10, D, seed=30), randn(1, H, 10, D, seed=31), randn(1, H, 10, D, seed=32)
    full = full_rope(q, k, v)
    cache_k, cache_v, outs = q[:, :, :0], q[:, :, :0], []
    for start, stop in [(0, 4), (4, 7), (7, 8), (8, 9), (9, 10)]:
        out, cache_k, cache_v = rope_step(q[:, :, start:stop], k[:, :, start:stop], v[:, :, start:stop],
                                          cache_k, cache_v, start)
        outs.append(out)
    assert torch.allclose(torch.cat(outs, 2), full, atol=TOL)


def test_caching_raw_keys_works_if_all_are_rotated_again_but_double_rotation_breaks():
    """Caching keys before rotation and rotating the whole cache at 0 … t each step gives the same output
    (more work per step); rotating the already-rotated cache again (mixing the two strategies) does not."""
    q, k, v = randn(1, H, 6, D, seed=40), randn(1, H, 6, D, seed=41), randn(1, H, 6, D, seed=42)
    full = full_rope(q, k, v)
    pos = torch.arange(6)
    query = rope(q[:, :, 5:], pos[5:], layout="half")
    raw_then_rotate = rope(k, pos, layout="half")
    twice = rope(rope(k, pos, layout="half"), pos, layout="half")
    for keys, expect_equal in [(raw_then_rotate, True), (twice, False)]:
        out = (query @ keys.transpose(-2, -1) / math.sqrt(D)).softmax(-1) @ v
        assert torch.allclose(out, full[:, :, 5:], atol=TOL) == expect_equal


def test_speculative_verification_and_cache_cropping():
    """Verifying 3 drafted tokens in one step (positions past … past+2, bottom-right causal) equals decoding
    them one by one. If only the first draft is accepted, the cache must be cropped to past+1 before the next
    step; without the crop the rejected keys stay in the cache (and a position read from the cache length is
    too large), so the next output changes."""
    q, k, v = randn(1, H, 9, D, seed=50), randn(1, H, 9, D, seed=51), randn(1, H, 9, D, seed=52)
    past = 5
    _, ck, cv = rope_step(q[:, :, :past], k[:, :, :past], v[:, :, :past], q[:, :, :0], q[:, :, :0], 0)
    verify, vk, vv = rope_step(q[:, :, past:past + 3], k[:, :, past:past + 3], v[:, :, past:past + 3], ck, cv, past)
    one_by_one, sk, sv = [], ck, cv
    for i in range(3):
        out, sk, sv = rope_step(q[:, :, past + i:past + i + 1], k[:, :, past + i:past + i + 1],
                                v[:, :, past + i:past + i + 1], sk, sv, past + i)
        one_by_one.append(out)
    assert torch.allclose(verify, torch.cat(one_by_one, 2), atol=TOL)
    # Accept 1 draft token; the model's own token (index 8 here) comes next at position past + 1.
    new_q, new_k, new_v = q[:, :, 8:9], k[:, :, 8:9], v[:, :, 8:9]
    cropped, _, _ = rope_step(new_q, new_k, new_v, vk[:, :, :past + 1], vv[:, :, :past + 1], past + 1)
    truth_q = torch.cat((q[:, :, :past + 1], new_q), 2)
    truth = full_rope(truth_q, torch.cat((k[:, :, :past + 1], new_k), 2), torch.cat((v[:, :, :past + 1], new_v), 2))
    assert torch.allclose(cropped, truth[:, :, -1:], atol=TOL)
    # Forgot to crop: the 2 rejected keys stay, and a position taken from the cache length is 2 too far.
    stale, _, _ = rope_step(new_q, new_k, new_v, vk, vv, vk.shape[2])
    assert not torch.allclose(stale, truth[:, :, -1:], atol=1e-3)


def test_alibi_bias_is_unchanged_by_a_query_offset_up_to_a_row_constant():
    """Under a cache, numbering the queries from 0 instead of from past changes −m(i − j) by −m·past on a
    whole row: softmax does not see it. What must be right is the mask, not the query offset in the bias."""
    q, k, v = randn(1, H, 2, D, seed=60), randn(1, H, 7, D, seed=61), randn(1, H, 7, D, seed=62)
    j = torch.arange(7, dtype=F64)
    m = alibi_slopes(H)[:, None, None]
    right = -m * ((torch.arange(5, 7, dtype=F64)[:, None]) - j)
    shifted = -m * ((torch.arange(0, 2, dtype=F64)[:, None]) - j)
    keep = causal_mask(2, 7)
    logits = q @ k.transpose(-2, -1) / math.sqrt(D)
    outs = [(logits + b).masked_fill(~keep, float("-inf")).softmax(-1) @ v for b in (right, shifted)]
    assert torch.allclose(outs[0], outs[1], atol=TOL)


def test_dynamic_ntk_makes_cached_keys_stale():
    """Dynamic NTK changes θ when the length passes L. Keys cached while the sequence was short were rotated
    with the old θ; a new query rotated with the new θ no longer sees a function of m − n alone, so the
    incremental result differs from recomputing every key with the new θ."""
    p = DynamicNTKScaling(factor=2.0, original_max_position_embeddings=8)
    old, _ = dynamic_ntk_frequencies(p, D, seq_len=8)
    new, _ = dynamic_ntk_frequencies(p, D, seq_len=16)
    assert torch.allclose(old, inv_freq(D)) and not torch.allclose(new, old)
    q, k = randn(1, 1, 1, D, seed=70), randn(1, 1, 16, D, seed=71)
    pos = torch.arange(16)

    def rot(x, positions, theta):
        c, s = cos_sin(positions.to(F64)[..., None] * theta, "half")
        return apply_rotary(x, c, s, layout="half")

    query = rot(q, pos[15:], new)
    cached = torch.cat((rot(k[:, :, :8], pos[:8], old), rot(k[:, :, 8:], pos[8:], new)), 2)
    recomputed = rot(k, pos, new)
    assert not torch.allclose(query @ cached.transpose(-2, -1), query @ recomputed.transpose(-2, -1), atol=1e-3)


def test_partial_rotary_conversion_permutes_only_the_rotated_channels():
    """With rotary_dim R < D, converting interleaved weights to the half layout must reorder only the first R
    output rows of each head; permuting whole heads changes the scores."""
    n_heads, d, r, t = 2, 8, 4, 5
    w_q, w_k, x = randn(n_heads * d, C, seed=80), randn(n_heads * d, C, seed=81), randn(t, C, seed=82)
    idx_r = torch.cat((half_from_interleaved_index(r), torch.arange(r, d)))  # rotated part only
    idx_d = half_from_interleaved_index(d)  # the whole head: wrong here
    pos = torch.arange(t)

    def scores(wq, wk, layout):
        q = (x @ wq.T).view(t, n_heads, d).transpose(0, 1)
        k = (x @ wk.T).view(t, n_heads, d).transpose(0, 1)
        return rope(q, pos, layout=layout, rotary_dim=r) @ rope(k, pos, layout=layout, rotary_dim=r).transpose(-2, -1)

    def permute(w, idx):
        return w.view(n_heads, d, C)[:, idx].reshape(n_heads * d, C)

    reference = scores(w_q, w_k, "interleaved")
    assert torch.allclose(scores(permute(w_q, idx_r), permute(w_k, idx_r), "half"), reference, atol=1e-9)
    assert not torch.allclose(scores(permute(w_q, idx_d), permute(w_k, idx_d), "half"), reference, atol=1e-3)


def test_batch_invariance_exposes_a_padding_bug():
    """A debugging check: a sequence's output must not depend on what else is in the batch. With a learned
    absolute table and positions arange(T) (pads counted) the same sentence gives different outputs in a
    batch padded to 5 and one padded to 3; with positions from the mask it does not."""
    x = randn(1, 3, C, seed=90)
    outs_buggy, outs_fixed = [], []
    for pads in (0, 2):
        row = torch.cat((randn(1, pads, C, seed=91), x), 1)
        attention_mask = torch.tensor([[0] * pads + [1] * 3])
        mask = padded_causal_mask(attention_mask)
        outs_buggy.append(layer(row, torch.arange(3 + pads)[None], mask, "absolute")[..., pads:, :])
        outs_fixed.append(layer(row, position_ids_from_attention_mask(attention_mask), mask, "absolute")[..., pads:, :])
    assert not torch.allclose(outs_buggy[0], outs_buggy[1], atol=1e-3)
    assert torch.allclose(outs_fixed[0], outs_fixed[1], atol=TOL)
