"""Claims of chapter 5 about "lost in the middle" and positional attention bias (knowledge-10-position-bias).

- Liu et al. 2024 (TACL): the numbers the KP quotes from Table 1 and Appendix G agree with the paper's sentences;
- Ms-PoE (Zhang et al. 2024): positions divided by a per-head ratio r make the RoPE score a function of Δ/r,
  the ratio-1 head is plain RoPE, compression raises RoFormer's decay bound at long distances; the position-
  awareness score, the paper's ratio rule (eq. 2) against the official code's rule, and how the ratios are
  handed to the heads; the averages of Tables 2 and 3;
- Found in the Middle (Hsieh et al. 2024): with attention = relevance + a U-shaped positional bias (eq. 2),
  subtracting a dummy document's attention at the same position (eq. 3-4) recovers the relevance ranking that
  the raw attention gets wrong; the rescaling of eq. (5) gives each document a mass proportional to
  softmax(rel / t) (eq. 6) and keeps the total;
- RoFormer's long-term decay bound, seen from the last query of a 20-document prompt, is smallest for the first
  document: decay alone gives recency, not primacy.
These re-implement the rules from the papers' formulas on toy numbers; no model is run. Float64.
"""

from __future__ import annotations

import torch

from peprep.encodings.rope import apply_rotary_complex, decay_bound, inv_freq

F64 = torch.float64
D = 128


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


# --- Liu et al. 2024, Table 1 and Appendix G (accuracy, %) --------------------------------------------------

CLOSED_BOOK = {"gpt-3.5-turbo": 56.1, "gpt-3.5-turbo-16k": 56.0, "claude-1.3": 48.3, "claude-1.3-100k": 48.2}
ORACLE = {"gpt-3.5-turbo": 88.3, "gpt-3.5-turbo-16k": 88.6}
# Table 6: 20 documents, gold at index 0, 4, 9, 14, 19.
DOCS20 = {
    "claude-1.3": [59.9, 55.9, 56.8, 57.2, 60.1],
    "claude-1.3-100k": [59.8, 55.9, 57.0, 57.4, 60.0],
    "gpt-3.5-turbo": [75.8, 57.2, 53.8, 55.4, 63.2],
    "gpt-3.5-turbo-16k": [75.7, 57.3, 54.1, 55.4, 63.1],
    "mpt-30b-instruct": [53.7, 51.8, 52.2, 52.7, 56.3],
    "longchat-13b-16k": [68.6, 57.4, 55.3, 52.5, 55.0],
}
# Table 7: 30 documents, gold at index 0, 4, 9, 14, 19, 24, 29 (no 4K GPT-3.5-Turbo row).
GPT35_16K_DOCS30 = [73.4, 55.1, 50.5, 50.9, 51.8, 54.9, 63.7]


def test_lost_in_the_middle_numbers_match_the_papers_sentences():
    """§2.3: GPT-3.5-Turbo 'can drop by more than 20%' and 'in the worst case, performance in 20- and 30-document
    settings is lower than performance without any input documents'; the extended-context versions are 'nearly
    identical' (within 0.3 points at every position here); every 20-document curve is higher at one end or the
    other than at index 9, the middle; MPT-30B-Instruct's U is shallow (4.5 points best to worst)."""
    turbo = DOCS20["gpt-3.5-turbo"]
    assert max(turbo) - min(turbo) > 20 and min(turbo) < CLOSED_BOOK["gpt-3.5-turbo"]
    assert min(turbo) == turbo[2] == 53.8  # the worst case is the middle document, index 9
    assert max(GPT35_16K_DOCS30) - min(GPT35_16K_DOCS30) > 20
    assert min(GPT35_16K_DOCS30) == GPT35_16K_DOCS30[2] == 50.5 < CLOSED_BOOK["gpt-3.5-turbo-16k"]
    for short, extended in (("gpt-3.5-turbo", "gpt-3.5-turbo-16k"), ("claude-1.3", "claude-1.3-100k")):
        assert max(abs(a - b) for a, b in zip(DOCS20[short], DOCS20[extended])) <= 0.3 + 1e-9
    for row in DOCS20.values():
        assert max(row[0], row[-1]) > row[2]
    mpt = DOCS20["mpt-30b-instruct"]  # a shallow U: best minus worst 4.5 points, against 22.0 for GPT-3.5-Turbo
    assert abs((max(mpt) - min(mpt)) - 4.5) < 1e-9 and abs((max(turbo) - min(turbo)) - 22.0) < 1e-9
    assert ORACLE["gpt-3.5-turbo"] - max(turbo) > 12  # even the best position is far below the oracle


# --- Ms-PoE (Zhang et al. 2024) -------------------------------------------------------------------------------


def rope_score(q: torch.Tensor, k: torch.Tensor, m: float, n: float, ratio: float = 1.0) -> torch.Tensor:
    """q rotated at position m / ratio, k at n / ratio, their dot product (interleaved pairs, base 10000)."""
    theta = inv_freq(q.shape[-1])
    rq = apply_rotary_complex(q, (m / ratio) * theta)
    rk = apply_rotary_complex(k, (n / ratio) * theta)
    return rq @ rk


def test_ms_poe_score_depends_on_distance_over_ratio():
    """With positions divided by the head's ratio r, the score of a pair at distance Δ = m − n is plain RoPE's
    score at distance Δ / r (and is still unchanged by shifting both positions); the head with r = 1 is plain RoPE;
    a head with a larger ratio sees a shorter distance."""
    q, k = randn(D, seed=1), randn(D, seed=2)
    ratios = [1.0, 1.2, 1.5, 1.8]
    for r in ratios:
        for m, n in ((900.0, 100.0), (3000.0, 37.0), (65.0, 64.0)):
            delta = m - n
            assert torch.isclose(rope_score(q, k, m, n, r), rope_score(q, k, delta / r, 0.0), atol=1e-9)
            assert torch.isclose(rope_score(q, k, m + 500, n + 500, r), rope_score(q, k, m, n, r), atol=1e-9)
    assert torch.isclose(rope_score(q, k, 900.0, 100.0, 1.0), rope_score(q, k, 900.0, 100.0), atol=0)
    seen = [800.0 / r for r in ratios]
    assert seen == sorted(seen, reverse=True) and seen[-1] < 450


def test_ms_poe_compression_raises_the_decay_bound_far_away():
    """RoFormer's bound at distance Δ/r instead of Δ: averaged over Δ = 1000..3000 it grows with r (1 < 1.2 < 1.5
    < 1.8) — 'alleviate the long-term decay effects by a factor of r' (§3.1) in the bound's terms; r = 1 changes
    nothing. It is still only a bound on the score's size (rope.decay-not-claimed)."""
    dist = torch.arange(1000, 3001, dtype=F64)
    means = [decay_bound(dist / r, D).mean().item() for r in (1.0, 1.2, 1.5, 1.8)]
    assert means == sorted(means) and means[0] < means[-1]
    assert torch.equal(decay_bound(dist / 1.0, D), decay_bound(dist, D))


def position_awareness(attn: torch.Tensor, alpha: float = 3.0) -> torch.Tensor:
    """Ms-PoE eq. (1): S_P = (1/l) Σ_i 1(A_i >= α · (1/l) Σ_i A_i) per head, A the last query's attention row."""
    return (attn >= alpha * attn.mean(dim=-1, keepdim=True)).to(F64).mean(dim=-1)


def paper_ratios(n_heads: int, low: float = 1.2, high: float = 1.8) -> torch.Tensor:
    """Eq. (2): r_i = 1.2 + (i − 1)(1.8 − 1.2)/(n_h − 1), i = 1..n_h (1-based), for the i-th head in S_P order."""
    i = torch.arange(1, n_heads + 1, dtype=F64)
    return low + (i - 1) * (high - low) / (n_heads - 1)


def code_ratios(n_heads: int, low: float = 1.2, high: float = 1.8) -> torch.Tensor:
    """The official code's table (MsPoELlamaRotaryEmbedding): low + (high − low) · h / n_h, h = 0..n_h − 1."""
    h = torch.arange(n_heads, dtype=F64)
    return low + (high - low) * h / n_heads


def test_ms_poe_ratio_rule_paper_vs_code():
    """Both are linear from 1.2; eq. (2) ends exactly at 1.8, the code's table stops one step short: 1.78125 for
    the 32 heads of a 7B Llama."""
    p, c = paper_ratios(32), code_ratios(32)
    assert torch.isclose(p[0], torch.tensor(1.2, dtype=F64)) and torch.isclose(p[-1], torch.tensor(1.8, dtype=F64))
    assert torch.isclose(c[0], torch.tensor(1.2, dtype=F64)) and torch.isclose(c[-1], torch.tensor(1.78125, dtype=F64))
    assert torch.all(c <= p + 1e-12) and torch.isclose(p.mean(), torch.tensor(1.5, dtype=F64))


def test_ms_poe_position_awareness_and_assignment():
    """A head whose last-query attention sits only on the first and last tokens has a small S_P; one that also
    spreads over a span in the middle has a larger S_P. The stated rule gives the largest S_P the smallest ratio —
    a scatter, ratio[order[j]] = r[j] with order = argsort(S_P, descending). Algorithm 1 line 9 and the official
    code index the ratios by that order instead (a gather, r[order]); on three heads with S_P = 0.1, 0.3, 0.2 the
    two differ, and they agree whenever the order is its own inverse (e.g. a reversal)."""
    length = 100
    sink_only = torch.full((length,), 0.1 / (length - 2), dtype=F64)
    sink_only[0], sink_only[-1] = 0.6, 0.3
    spread = torch.full((length,), 0.001, dtype=F64)
    spread[0], spread[-1] = 0.3, 0.1
    spread[45:55] = (1 - spread[0] - spread[-1] - 0.001 * (length - 12)) / 10  # 10 tokens at about 0.05
    s = position_awareness(torch.stack((sink_only, spread)))
    assert torch.isclose(s[0], torch.tensor(2 / length, dtype=F64))
    assert torch.isclose(s[1], torch.tensor(12 / length, dtype=F64))

    r = torch.tensor([1.2, 1.5, 1.8], dtype=F64)
    sp = torch.tensor([0.1, 0.3, 0.2], dtype=F64)
    order = torch.argsort(sp, descending=True)  # [1, 2, 0]: most position-aware head first
    scatter = torch.empty_like(r)
    scatter[order] = r
    gather = r[order]
    assert scatter.tolist() == [1.8, 1.2, 1.5]  # head 1 (largest S_P) gets 1.2, head 0 (smallest) gets 1.8
    assert gather.tolist() == [1.5, 1.8, 1.2]  # what indexing by the order gives instead
    reverse = torch.tensor([2, 1, 0])
    scatter_rev = torch.empty_like(r)
    scatter_rev[reverse] = r
    assert torch.equal(scatter_rev, r[reverse])


def test_ms_poe_table_averages():
    """Table 2 (Vicuna-7B, gold at 1, 3, 5, 7, 10 of 10 documents; key at 1, 15, 30, 40, 50 of 50 pairs) and
    Table 3 (begin / middle / end): the printed averages are the means of the printed cells."""
    mdqa = {"baseline": ([64.0, 61.0, 57.4, 58.4, 64.8], 61.12), "ms-poe": ([65.6, 64.2, 63.0, 65.2, 67.2], 65.04)}
    kv = {"baseline": ([92.0, 25.8, 8.0, 25.4, 30.0], 36.24), "ms-poe": ([97.0, 83.4, 75.0, 86.6, 57.8], 79.96)}
    for cells, avg in (*mdqa.values(), *kv.values()):
        assert abs(sum(cells) / len(cells) - avg) < 1e-9
    assert round(sum([64.0, 57.4, 64.8]) / 3, 1) == 62.1 and round(sum([65.6, 63.0, 67.2]) / 3, 1) == 65.3


# --- Found in the Middle (Hsieh et al. 2024) -------------------------------------------------------------------


def u_bias(k_docs: int, depth: float) -> torch.Tensor:
    """A U-shaped positional bias over document positions 0..K−1: largest at both ends, smallest in the middle."""
    x = torch.linspace(-1.0, 1.0, k_docs, dtype=F64)
    return depth * x**2


def test_found_in_the_middle_calibration_recovers_relevance():
    """Eq. (2): Attn(x_doc, k) = rel(x_doc) + bias(k) + ε. With the gold document in the middle of 20 and a U-shaped
    bias larger than the relevance gap, the raw attention ranks an end document first and misses the gold document
    in its top 3; subtracting the dummy document's attention at the same position, Attn(x_dum, k) = rel(x_dum) +
    bias(k) + ε (eq. 3-4), leaves rel(x_doc) − rel(x_dum) (+ noise) and puts the gold document first."""
    k_docs, gold = 20, 9
    rel = 0.3 * torch.rand(k_docs, generator=torch.Generator().manual_seed(3), dtype=F64)
    rel[gold] = 1.0
    bias = u_bias(k_docs, depth=2.0)
    noise = 0.02 * randn(k_docs, seed=4)
    rel_dummy = 0.1
    attn = rel + bias + noise
    attn_dummy = rel_dummy + bias + 0.02 * randn(k_docs, seed=5)
    calibrated = attn - attn_dummy
    assert int(attn.argmax()) in (0, k_docs - 1)
    assert gold not in torch.topk(attn, 3).indices.tolist()  # vanilla attention: Recall@3 misses it
    assert int(calibrated.argmax()) == gold
    assert torch.allclose(calibrated, rel - rel_dummy, atol=0.1)
    # without noise the calibrated scores rank exactly like the relevance
    exact = (rel + bias) - (rel_dummy + bias)
    assert torch.equal(torch.argsort(exact), torch.argsort(rel))


def test_found_in_the_middle_rescaling_eq5_eq6():
    """Eq. (5): attn_cal(x_{k,i}) = α_k / Attn_orig(x_k) · attn_orig(x_{k,i}) · C with α = softmax(rel / t). Taking
    Attn_orig(x_k) as the document's total attention, every document ends with a share ∝ α_k (eq. 6), the total
    over the documents is unchanged (C), and the split inside a document is unchanged. If Attn_orig were the
    per-token average of §2.1 instead, documents of different lengths would get α_k · N_k, not α_k."""
    lengths = [5, 12, 7, 9]
    token_attn = [torch.rand(n, generator=torch.Generator().manual_seed(10 + j), dtype=F64) * 1e-4 for j, n in enumerate(lengths)]
    rel = torch.tensor([1.0e-4, 3.0e-4, 0.5e-4, 2.0e-4], dtype=F64)
    t = 5e-5
    alpha = torch.softmax(rel / t, dim=0)
    total = sum(a.sum() for a in token_attn)
    mass = torch.stack([a.sum() for a in token_attn])
    c = total  # so that Σ_k α_k · C equals the original total
    calibrated = [alpha[j] / mass[j] * a * c for j, a in enumerate(token_attn)]
    new_mass = torch.stack([a.sum() for a in calibrated])
    assert torch.allclose(new_mass / new_mass.sum(), alpha)
    assert torch.isclose(new_mass.sum(), total)
    for before, after in zip(token_attn, calibrated):
        assert torch.allclose(after / after.sum(), before / before.sum())
    avg = torch.stack([a.mean() for a in token_attn])
    by_average = torch.stack([(alpha[j] / avg[j] * a).sum() for j, a in enumerate(token_attn)])
    assert not torch.allclose(by_average / by_average.sum(), alpha)
    n = torch.tensor(lengths, dtype=F64)
    assert torch.allclose(by_average / by_average.sum(), alpha * n / (alpha * n).sum())


# --- RoPE's long-term decay and the two ends of the U ---------------------------------------------------------


def test_decay_bound_from_the_last_query_gives_recency_not_primacy():
    """The answer is generated after the last token, so every document is seen from the end. For 20 documents of 150
    tokens (3000 tokens, d = 128, base 10000), RoFormer's bound averaged over each document is largest for the last
    document and smallest for the first: long-term decay alone would rank the beginning lowest (recency), so the
    high accuracy at the beginning (primacy) needs another mechanism (e.g. attention sinks on the first tokens)."""
    total, docs = 3000, 20
    keys = torch.arange(total, dtype=F64)
    per_doc = decay_bound(total - 1 - keys, D).reshape(docs, total // docs).mean(dim=1)
    assert int(per_doc.argmax()) == docs - 1
    assert int(per_doc.argmin()) == 0
    assert per_doc[-1] > 2 * per_doc[docs // 2]
