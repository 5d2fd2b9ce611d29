"""Claims of chapter 5 about Dual Chunk Attention (An et al. 2024) and its use in Qwen2.5-1M.

- every relative position DCA shows RoPE is in [0, c − 1]; intra-chunk ones are exact; the keys within
  distance w keep their true distance; DCA is plain RoPE up to T = s + w;
- long distances are remapped (never lengthened, in the paper's setting) and earlier chunks become
  indistinguishable by position; the remapped matrix is not a function of i − j (ReRoPE's is);
- the worked examples of the paper (Figure 2) and of the Qwen2.5-1M report (Figure 2b);
- the official code's rule (ChunkLlama, vLLM) = the paper's rule with c − 1 = chunk_size, re-expressed
  here independently and compared on small cases;
- three softmaxes merged by log-sum-exp = one softmax over the union (FlashAttention compatibility);
- Qwen2.5-1M: the YaRN-style factor of the vLLM backend, and the RULER rows quoted from the report.
Float64 unless stated.
"""

from __future__ import annotations

import math

import torch

from peprep.encodings.attention import scaled_dot_product_attention
from peprep.encodings.dual_chunk import (
    INTER,
    INTRA,
    MASKED,
    SUCC,
    dca_attention,
    dca_attention_by_pieces,
    dca_from_code_config,
    dca_length_scaling,
    dca_logits,
    dca_pieces,
    dca_position_ids,
    dca_relative_positions,
)
from peprep.encodings.rope import inv_freq, rope
from peprep.encodings.rope_scaling import relative_positions, rerope_positions, rope_scores_from_relative

F64 = torch.float64

# (c, s, w): the paper's example, the Qwen report's example, the paper's default ratio s = 3c/4 with
# w = c − s, a smaller window, no window, and a chunk shorter than c/2.
CONFIGS = [(10, 6, 4), (8, 5, 3), (16, 12, 4), (16, 12, 2), (12, 9, 0), (20, 7, 5)]


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def causal(t: int) -> torch.Tensor:
    return torch.ones(t, t, dtype=torch.bool).tril()


def test_every_relative_position_is_nonnegative_and_below_pretraining_length():
    """§3: M[i][j] ∈ [0, c − 1] for every j <= i, whatever T; eq. (6): inter-chunk entries are >= c − s.
    With w = c − s and T > 2s the largest value c − 1 is reached."""
    for c, s, w in CONFIGS:
        for t in (1, s, s + 1, 2 * s + 1, 5 * c + 3):
            rel = dca_relative_positions(t, s, w, c)[causal(t)]
            assert rel.min() >= 0 and rel.max() <= c - 1, (c, s, w, t)
        t = 5 * c
        rel, piece = dca_relative_positions(t, s, w, c), dca_pieces(t, s)
        assert torch.all(rel[piece == INTER] >= c - s)
        if w == c - s:
            assert rel[causal(t)].max() == c - 1


def test_intra_chunk_positions_are_exact():
    """Eq. (3): for ⌊i/s⌋ = ⌊j/s⌋, M[i][j] = (i mod s) − (j mod s) = i − j."""
    for c, s, w in CONFIGS:
        t = 4 * c
        rel, piece = dca_relative_positions(t, s, w, c), dca_pieces(t, s)
        assert torch.equal(rel[piece == INTRA], relative_positions(t)[piece == INTRA])


def test_successive_chunk_keeps_the_nearest_keys_exact():
    """Eq. (7): a query at in-chunk offset r < w sees the whole previous chunk at its true distance, so
    (for w <= s) every key with i − j <= w keeps i − j. The window is tight: at offset r = w the last key
    of the previous chunk (true distance w + 1) is remapped."""
    for c, s, w in CONFIGS:
        if w > s:
            continue
        t = 4 * c
        rel, true = dca_relative_positions(t, s, w, c), relative_positions(t)
        near = causal(t) & (true <= w)
        assert torch.equal(rel[near], true[near]), (c, s, w)
        piece = dca_pieces(t, s)
        offset = (torch.arange(t) % s)[:, None].expand(t, t)
        exact_rows = (piece == SUCC) & (offset < w)
        assert torch.equal(rel[exact_rows], true[exact_rows])
        if 0 < w < s:
            i = s + w  # offset w of chunk 1
            assert true[i, s - 1] == w + 1 and rel[i, s - 1] == c - 1 - (s - 1) != w + 1


def test_dca_is_plain_rope_up_to_s_plus_w():
    """For T <= s + w (= c with the paper's default w = c − s) every query of chunk 1 has offset < w, so
    M = i − j everywhere: DCA changes nothing for inputs that fit in the pre-training length."""
    for c, s, w in CONFIGS:
        if w > s:
            continue
        t = s + w
        assert torch.equal(dca_relative_positions(t, s, w, c)[causal(t)], relative_positions(t)[causal(t)])
        t += 1
        assert not torch.equal(dca_relative_positions(t, s, w, c)[causal(t)], relative_positions(t)[causal(t)])


def test_equals_rope_attention_within_one_chunk():
    """T <= s: only the intra piece exists and P_q = P_k = 0 … T − 1, so DCA attention is RoPE attention
    (and, by the test above, so it is up to T = s + w)."""
    q, k, v = randn(2, 2, 12, 16, seed=1), randn(2, 2, 12, 16, seed=2), randn(2, 2, 12, 16, seed=3)
    for t in (1, 5, 9, 12):
        pos = torch.arange(t)
        ref = scaled_dot_product_attention(rope(q[..., :t, :], pos), rope(k[..., :t, :], pos), v[..., :t, :], causal=True)
        assert torch.allclose(dca_attention(q[..., :t, :], k[..., :t, :], v[..., :t, :], 9, 3, 12), ref, atol=1e-6)


def test_logits_depend_only_on_the_remapped_position():
    """Eq. (8): rotating q at P_q^• and k at P_k gives the RoPE score of M[i][j] = P_q^•[i] − P_k[j]."""
    c, s, w = 16, 12, 4
    t, d = 40, 16
    q, k = randn(t, d, seed=4), randn(t, d, seed=5)
    logits = dca_logits(q, k, s, w, c)
    rel = dca_relative_positions(t, s, w, c)
    expected = rope_scores_from_relative(q, k, rel, inv_freq(d)) / math.sqrt(d)
    assert torch.allclose(logits[causal(t)], expected[causal(t)], atol=1e-9)


def test_long_distances_are_remapped_never_lengthened():
    """With w = c − s and s >= (c − 1)/2 (the paper's s = 3c/4), M[i][j] <= i − j for every pair, and
    every pair at true distance >= c is shown a strictly smaller distance (< c)."""
    for c, s in ((10, 6), (8, 5), (16, 12), (4096 // 64, 3072 // 64)):
        w, t = c - s, 6 * c
        rel, true = dca_relative_positions(t, s, w, c), relative_positions(t)
        assert torch.all(rel[causal(t)] <= true[causal(t)])
        far = causal(t) & (true >= c)
        assert torch.all(rel[far] < true[far])


def test_earlier_chunks_are_indistinguishable_by_position():
    """Inter-chunk: M = c − 1 − (j mod s) for every chunk before the previous one. Keys at the same
    in-chunk offset of different earlier chunks get the same position, so identical keys there get
    identical logits: only their content, not their position, can tell those chunks apart."""
    c, s, w = 16, 12, 4
    t = 5 * s
    rel = dca_relative_positions(t, s, w, c)
    i = t - 1  # chunk 4; chunks 0, 1, 2 are inter-chunk for it
    for offset in range(s):
        assert rel[i, offset] == rel[i, s + offset] == rel[i, 2 * s + offset] == c - 1 - offset
    q, k = randn(t, 8, seed=6), randn(t, 8, seed=7)
    k[2 * s + 3] = k[3]  # the same key content at offset 3 of chunks 0 and 2
    logits = dca_logits(q, k, s, w, c)
    assert torch.allclose(logits[i, 3], logits[i, 2 * s + 3])
    assert (dca_pieces(t, s)[i, :3 * s] == INTER).all()


def test_dca_positions_are_not_a_function_of_distance_unlike_rerope():
    """ReRoPE's min(i − j, w) depends only on i − j (a Toeplitz matrix). DCA's M does not: the same true
    distance is exact inside a chunk and can be remapped across a boundary."""
    c, s, w, t = 16, 12, 4, 40
    rel, true = dca_relative_positions(t, s, w, c), relative_positions(t)
    rr = rerope_positions(t, 4)
    for dist in range(t):
        on_diag = causal(t) & (true == dist)
        assert rr[on_diag].unique().numel() == 1
    d = 7  # > w, < s
    values = rel[causal(t) & (true == d)].unique().tolist()
    assert d in values and len(values) > 1


def test_paper_figure_2_example():
    """An et al. Figure 2: c = 10, s = 6, w = 4, 12 tokens. P_k = [0 … 5, 0 … 5]; P_q^succ =
    [6, 7, 8, 9, 9, 9, 6, 7, 8, 9, 9, 9]; P_q^inter = [9] * 12. With inter-chunk positions only, q_6 and
    k_5 (true distance 1) would be 4 apart; the successive-chunk piece restores 1."""
    pos = dca_position_ids(12, 6, 4, 10)
    assert pos.key.tolist() == [0, 1, 2, 3, 4, 5] * 2
    assert pos.succ.tolist() == [6, 7, 8, 9, 9, 9] * 2
    assert pos.inter.tolist() == [9] * 12
    assert pos.inter[6] - pos.key[5] == 4
    assert dca_relative_positions(12, 6, 4, 10)[6, 5] == 1


# Qwen2.5-1M technical report (arXiv 2501.15383v1), Figure 2(b): pre-trained length 8, chunk size 5,
# local window 3, 15 tokens; the causal part of the remapped relative-position matrix, row by row.
QWEN_FIGURE_2B = [
    [0],
    [1, 0],
    [2, 1, 0],
    [3, 2, 1, 0],
    [4, 3, 2, 1, 0],
    [5, 4, 3, 2, 1, 0],
    [6, 5, 4, 3, 2, 1, 0],
    [7, 6, 5, 4, 3, 2, 1, 0],
    [7, 6, 5, 4, 3, 3, 2, 1, 0],
    [7, 6, 5, 4, 3, 4, 3, 2, 1, 0],
    [7, 6, 5, 4, 3, 5, 4, 3, 2, 1, 0],
    [7, 6, 5, 4, 3, 6, 5, 4, 3, 2, 1, 0],
    [7, 6, 5, 4, 3, 7, 6, 5, 4, 3, 2, 1, 0],
    [7, 6, 5, 4, 3, 7, 6, 5, 4, 3, 3, 2, 1, 0],
    [7, 6, 5, 4, 3, 7, 6, 5, 4, 3, 4, 3, 2, 1, 0],
]


def test_qwen_report_figure_2b():
    rel = dca_relative_positions(15, 5, 3, 8)
    for i, row in enumerate(QWEN_FIGURE_2B):
        assert rel[i, : i + 1].tolist() == row


def code_rule_relative_positions(t: int, chunk_size: int, local_size: int) -> torch.Tensor:
    """The official code's rule, re-expressed from reading HKUNLP/ChunkLlama `chunkllama_attn_replace.py`
    (`ChunkLlamaRotaryEmbedding._set_cos_sin_cache`, `forward`) and vLLM's `DualChunkRotaryEmbedding`:
    chunk length L = chunk_size − local_size; keys at t mod L; queries at t mod L (same chunk),
    min(t mod L + L, chunk_size) (previous chunk), and the successive table's entry L − 1,
    min(2L − 1, chunk_size) (older chunks)."""
    n = chunk_size - local_size
    pos = torch.arange(t)
    key = pos % n
    q_same = pos % n
    q_prev = (pos % n + n).clamp(max=chunk_size)
    q_old = min(2 * n - 1, chunk_size)
    gap = (pos // n)[:, None] - (pos // n)[None, :]
    q = torch.where(gap == 0, q_same[:, None], torch.where(gap == 1, q_prev[:, None], torch.full_like(gap, q_old)))
    return q - key[None, :]


def test_official_code_rule_is_the_paper_rule_with_c_minus_1_equal_to_chunk_size():
    """The code's (chunk_size, local_size) = the paper's s = chunk_size − local_size, w = local_size and
    c − 1 = chunk_size. So with the Qwen report's own example (c = 8, s = 5, w = 3 → chunk_size 8,
    local_size 3) the code shows distance 8 = c where the figure shows c − 1 = 7 (clamped entries only)."""
    for chunk_size, local_size in ((8, 3), (10, 4), (11, 2), (9, 0), (64, 16)):
        t = 5 * chunk_size + 3
        code = code_rule_relative_positions(t, chunk_size, local_size)
        paper = dca_relative_positions(t, *dca_from_code_config(chunk_size, local_size))
        assert torch.equal(code[causal(t)], paper[causal(t)]), (chunk_size, local_size)
    code = code_rule_relative_positions(15, 8, 3)
    figure = dca_relative_positions(15, 5, 3, 8)
    diff = (code - figure)[causal(15)]
    assert set(diff.unique().tolist()) == {0, 1}
    assert code[causal(15)].max() == 8 and figure[causal(15)].max() == 7


def test_code_configs_largest_relative_position():
    """Qwen2.5-1M (config: chunk_size 262144, local_size 8192, original_max_position_embeddings 262144):
    chunks of 253952 tokens, w = 8192 = 262144 − 253952 (the paper's default w = c − s), largest query
    position 262144, so the largest relative position equals the training length 262144. Inputs up to
    s + w = 262144 tokens are plain RoPE. ChunkLlama's default for a 4096 model (chunk_size 3072 =
    4096·3/4; local_window 512 = 4096/8 since April 2024, 256 = 4096/16 before): chunks of 2560 (2816),
    largest relative position 3072 < 4096 either way."""
    s, w, c = dca_from_code_config(262144, 8192)
    assert (s, w, c - 1) == (253952, 8192, 262144)
    pos = dca_position_ids(2 * s + 1, s, w, c)
    largest = max(pos.intra.max(), pos.succ.max(), pos.inter.max()) - pos.key.min()
    assert largest == 262144
    assert torch.equal(pos.succ[s : s + w], s + torch.arange(w))  # chunk 1 of a 262144-token input: exact
    for local_window, chunk_len in ((4096 // 8, 2560), (4096 // 16, 2816)):
        s, w, c = dca_from_code_config(4096 * 3 // 4, local_window)
        assert (s, w, c - 1) == (chunk_len, local_window, 3072)
        pos = dca_position_ids(2 * s + 1, s, w, c)
        assert max(pos.intra.max(), pos.succ.max(), pos.inter.max()) - pos.key.min() == 3072


def test_flash_style_merge_equals_one_softmax_over_the_union():
    """Algorithm 1 / the official code: three attention calls (intra causal, successive and inter not),
    each returning its output and log-sum-exp, merged with weights exp(lse_p − lse) — the same as one
    softmax over all keys j <= i with the DCA logits (eq. 9)."""
    q, k, v = randn(2, 2, 50, 16, seed=8), randn(2, 2, 50, 16, seed=9), randn(2, 2, 50, 16, seed=10)
    for c, s, w in CONFIGS:
        one = dca_attention(q, k, v, s, w, c)
        merged = dca_attention_by_pieces(q, k, v, s, w, c)
        assert torch.allclose(one, merged, atol=1e-12), (c, s, w)
    piece = dca_pieces(50, 12)
    assert {INTRA, SUCC, INTER, MASKED} == set(piece.unique().tolist())


def test_qwen_length_scaling_factor():
    """Qwen2.5-1M's vLLM backend: factor = max(1, 0.1 ln(T/262144) + 1), applied to the keys and to the
    softmax scale (prefill) or the queries (decode): logits × factor², YaRN's √(1/t) = 0.1 ln s + 1.
    1 up to the training length; at T = 1,010,000 (the config's max_position_embeddings) s ≈ 3.853,
    factor ≈ 1.1349, logits × ≈ 1.288."""
    length = 262144
    assert dca_length_scaling(length, length) == 1.0 and dca_length_scaling(32768, length) == 1.0
    f = dca_length_scaling(1_010_000, length)
    assert abs(1_010_000 / length - 3.853) < 1e-3
    assert abs(f - 1.1349) < 1e-4 and abs(f * f - 1.288) < 1e-3
    assert abs(dca_length_scaling(4 * length, length) - (0.1 * math.log(4) + 1)) < 1e-12


# Qwen2.5-1M report Table 4 (RULER; columns 4K, 8K, 16K, 32K, 64K, 128K; then the reported average).
# For the 32K-trained models the 4K-32K entries are shared ("DCA+YaRN does not change the model
# behavior within its training length").
RULER = {
    "Qwen2.5-7B-Instruct RoPE": ([96.7, 95.1, 93.7, 89.4, 74.5, 31.4], 80.1),
    "Qwen2.5-7B-Instruct DCA+YaRN": ([96.7, 95.1, 93.7, 89.4, 82.3, 55.1], 85.4),
    "Qwen2.5-14B-Instruct RoPE": ([97.7, 96.8, 95.9, 93.4, 82.3, 53.0], 86.5),
    "Qwen2.5-14B-Instruct DCA+YaRN": ([97.7, 96.8, 95.9, 93.4, 86.7, 78.1], 91.4),
    "Qwen2.5-32B-Instruct RoPE": ([96.9, 97.1, 95.5, 95.5, 85.3, 57.7], 88.0),
    "Qwen2.5-32B-Instruct DCA+YaRN": ([96.9, 97.1, 95.5, 95.5, 90.3, 82.0], 92.9),
    "Qwen2.5-72B-Instruct RoPE": ([97.7, 97.2, 97.7, 96.5, 88.5, 67.0], 90.8),
    "Qwen2.5-72B-Instruct DCA+YaRN": ([97.7, 97.2, 97.7, 96.5, 93.0, 88.4], 95.1),
    "Qwen2.5-7B-Instruct-1M": ([96.8, 95.3, 93.0, 91.1, 90.4, 84.4], 91.8),
    "Qwen2.5-Turbo": ([97.5, 95.7, 95.5, 94.8, 90.8, 84.5], 93.1),
}


def test_qwen_report_ruler_rows_are_consistent():
    """The rows quoted in the KP, as read from the report's text: each reported average is the mean of
    its six columns (to the printed 0.1). The 14B-Instruct-1M row is the exception: its columns
    97.5, 97.1, 94.6, 94.9, 94.9, 92.2 average 95.2, the table prints 95.7 — so the KP quotes only its
    128K score, 92.2, which the report's text also states."""
    for name, (cols, avg) in RULER.items():
        assert abs(sum(cols) / 6 - avg) <= 0.05 + 1e-9, name
    assert abs(sum([97.5, 97.1, 94.6, 94.9, 94.9, 92.2]) / 6 - 95.2) < 0.01
    gains = {n.split()[0]: RULER[n.replace("RoPE", "DCA+YaRN")][0][5] - RULER[n][0][5] for n in RULER if "RoPE" in n}
    expected = {"Qwen2.5-7B-Instruct": 23.7, "Qwen2.5-14B-Instruct": 25.1, "Qwen2.5-32B-Instruct": 24.3, "Qwen2.5-72B-Instruct": 21.4}
    assert {n: round(g, 1) for n, g in gains.items()} == expected  # at 128K = 4× the 32K training length
