"""Claims about RoPE at inference and in batches: KV caches, position ids, left padding, packed sequences.

One attention head stack (B, H, T, D) with random projections; float64, tolerance 1e-10 on O(1) outputs.
Masks are additive: -1e9 on forbidden keys (exp underflows to exactly 0 in float64).
"""

from __future__ import annotations

import torch

from peprep.encodings.attention import attention_weights
from peprep.encodings.rope import RotaryEmbedding

F64 = torch.float64
H, D, C = 2, 16, 32
NEG = -1e9


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


W_Q, W_K, W_V = randn(C, H * D, seed=1), randn(C, H * D, seed=2), randn(C, H * D, seed=3)


def project(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    b, t, _ = x.shape
    return (x @ w).view(b, t, H, D).transpose(1, 2)  # (B, H, T, D)


def full_pass(x: torch.Tensor, positions: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """Causal attention over the whole sequence, RoPE at `positions` ((T,) or (B, T))."""
    rope = RotaryEmbedding(D)
    q, k = rope(project(x, W_Q), project(x, W_K), positions)
    return attention_weights(q, k, causal=True, bias=bias) @ project(x, W_V)


def test_incremental_decoding_matches_full_pass():
    """Cache keys after rotation; rotate each new token's q and k at its own position (past length);
    attending over the cache reproduces the full causal pass exactly. Cached keys are never touched again."""
    x = randn(1, 12, C, seed=4)
    reference = full_pass(x, torch.arange(12))
    rope = RotaryEmbedding(D)
    q, k = rope(project(x[:, :5], W_Q), project(x[:, :5], W_K))  # prefill, positions 0..4
    k_cache, v_cache = k, project(x[:, :5], W_V)
    outputs = [attention_weights(q, k_cache, causal=True) @ v_cache]
    for t in range(5, 12):
        q_t, k_t = rope(project(x[:, t : t + 1], W_Q), project(x[:, t : t + 1], W_K), offset=k_cache.shape[-2])
        k_cache = torch.cat((k_cache, k_t), dim=-2)
        v_cache = torch.cat((v_cache, project(x[:, t : t + 1], W_V)), dim=-2)
        outputs.append(attention_weights(q_t, k_cache, causal=True) @ v_cache)
    assert torch.allclose(torch.cat(outputs, dim=-2), reference, atol=1e-10)


def decode_last(x: torch.Tensor, *, new_position: int, rerotate_cache: bool = False) -> torch.Tensor:
    """Prefill tokens 0..T-2, then decode token T-1 at `new_position`; return its output."""
    t = x.shape[1]
    rope = RotaryEmbedding(D)
    _, k_cache = rope(project(x[:, : t - 1], W_Q), project(x[:, : t - 1], W_K))
    q_t, k_t = rope(project(x[:, t - 1 :], W_Q), project(x[:, t - 1 :], W_K), torch.tensor([new_position]))
    k_all = torch.cat((k_cache, k_t), dim=-2)
    if rerotate_cache:  # bug: rotating the already-rotated cache again
        k_all, _ = rope(k_all, k_all)
    v_all = project(x, W_V)
    return attention_weights(q_t, k_all, causal=True) @ v_all


def test_kv_cache_bugs_change_the_output():
    """Three classic bugs, each an O(1) change of the new token's output: position 0 for every new token,
    an off-by-one position, and rotating the cached (already rotated) keys again."""
    x = randn(1, 10, C, seed=5)
    reference = full_pass(x, torch.arange(10))[:, :, -1:]
    assert torch.allclose(decode_last(x, new_position=9), reference, atol=1e-10)
    scale = reference.abs().mean()
    for bad in (decode_last(x, new_position=0), decode_last(x, new_position=10), decode_last(x, new_position=9, rerotate_cache=True)):
        assert (bad - reference).abs().mean() > 0.05 * scale


def left_padded_batch(n_pad: int = 3, t: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Two sequences; the second is the first's last t - n_pad tokens, left-padded with n_pad pads."""
    x = randn(2, t, C, seed=6)
    x[1, n_pad:] = x[0, :t - n_pad]
    x[1, :n_pad] = randn(n_pad, C, seed=7)  # pad embeddings: garbage, must not matter
    mask = torch.ones(2, t, dtype=torch.long)
    mask[1, :n_pad] = 0
    return x, mask


def position_ids_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """transformers' generation rule: cumsum(mask) - 1, pads set to 0 (GenerationMixin, v5.25)."""
    return (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)


def test_left_padding_position_ids():
    """With position ids from the mask, the real tokens of a left-padded row are at 0, 1, 2, ..."""
    _, mask = left_padded_batch()
    assert position_ids_from_mask(mask).tolist() == [[0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 1, 2, 3, 4]]


def test_constant_position_offset_does_not_change_attention():
    """Because scores depend only on m - n, counting the pads (positions 3..7 instead of 0..4) shifts every
    real token by the same constant and leaves their outputs unchanged, as long as pads are masked out."""
    x, mask = left_padded_batch()
    bias = torch.where(mask[:, None, None, :] == 1, 0.0, NEG).to(F64)  # (B, 1, 1, T): hide pad keys
    from_mask = full_pass(x, position_ids_from_mask(mask), bias)
    naive = full_pass(x, torch.arange(8).expand(2, 8), bias)
    assert torch.allclose(from_mask[1, :, 3:], naive[1, :, 3:], atol=1e-10)
    assert torch.allclose(from_mask[1, :, 3:], full_pass(x[:1, :5], torch.arange(5))[0], atol=1e-10)


def test_inconsistent_offset_between_prefill_and_decode_changes_output():
    """The real bug: prefill with positions from the mask (0..4) but decode the next token at the cache length
    (8, pads included). The new token then sits 3 positions too far from every cached key."""
    x, mask = left_padded_batch()
    row = x[1:]
    rope = RotaryEmbedding(D)
    pos = position_ids_from_mask(mask)[1:]
    bias = torch.where(mask[1:, None, None, :] == 1, 0.0, NEG).to(F64)
    _, k_cache = rope(project(row[:, :7], W_Q), project(row[:, :7], W_K), pos[:, :7])
    v = project(row, W_V)
    outs = {}
    for name, p in (("consistent", 4), ("cache length", 7)):
        q_t, k_t = rope(project(row[:, 7:], W_Q), project(row[:, 7:], W_K), torch.tensor([p]))
        outs[name] = attention_weights(q_t, torch.cat((k_cache, k_t), dim=-2), causal=True, bias=bias) @ v
    reference = full_pass(x[:1, :5], torch.arange(5))[:, :, -1:]
    assert torch.allclose(outs["consistent"], reference, atol=1e-10)
    assert (outs["cache length"] - reference).abs().mean() > 0.05 * reference.abs().mean()


def test_packed_documents_need_the_mask_not_the_position_reset():
    """Two documents packed in one row. With a block-diagonal causal mask, resetting positions at the
    boundary or not gives identical outputs (only m - n inside a document matters), equal to running each
    document alone. Resetting positions without the mask still lets document 2 attend to document 1."""
    a, b = randn(1, 6, C, seed=8), randn(1, 5, C, seed=9)
    x = torch.cat((a, b), dim=1)
    doc = torch.tensor([0] * 6 + [1] * 5)
    block = torch.where(doc[:, None] == doc[None, :], 0.0, NEG).to(F64)  # (T, T)
    reset = torch.cat((torch.arange(6), torch.arange(5)))
    alone = torch.cat((full_pass(a, torch.arange(6)), full_pass(b, torch.arange(5))), dim=-2)
    assert torch.allclose(full_pass(x, reset, block), alone, atol=1e-10)
    assert torch.allclose(full_pass(x, torch.arange(11), block), alone, atol=1e-10)
    leaky = full_pass(x, reset)  # positions reset, no mask
    assert (leaky[:, :, 6:] - alone[:, :, 6:]).abs().mean() > 0.05 * alone.abs().mean()
