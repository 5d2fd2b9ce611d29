"""Claims of chapter 5 about how long-context continued pre-training is done in practice
(knowledge-11-long-context-training.yaml): Fu et al. 2024, ProLong (Gao et al. 2024) and Llama 3.

- wavelengths of the slowest RoPE pair for the bases these recipes use, and how many pairs turn a full
  circle inside the (new) training length;
- which pairs reach angles at the new length that the original model never saw: i_c <= i < i*,
  i* = (d/2)·ln(L'/L)/ln(b'/b) — checked against a brute-force count, against transformers' dynamic NTK
  and llama3 rope functions, and for each recipe;
- the token budgets, batch sizes and mixture proportions quoted from the papers and the official scripts;
- the per-source length-upsampling arithmetic, and ProLong's "(n-1)(d-1) more dependencies" count;
- the averages of the table rows quoted in the chapter equal the averages printed in the papers.
Float64 unless stated. Every number here is copied from the source named next to it.
"""

from __future__ import annotations

import math

import torch
from transformers import LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

from peprep.encodings.rope import inv_freq, wavelengths

D = 128  # head dim of Llama 2 7B/13B and Llama 3 8B
LLAMA3_BASE = 500_000.0  # Llama 3 paper, Table 3 / §3.2
PROLONG_BASE_64K = 8_000_000.0  # ProLong Table 9; train_64K.sh `rope_theta=8000000`
PROLONG_BASE_512K = 128_000_000.0  # ProLong Table 9; train_512K.sh `rope_theta=128000000`
K = 1024


def critical_index(d: int, base: float, length: int) -> float:
    """i_c = (d/2)·log_b(L/2π): pairs with i > i_c have λ_i > L (they never turn a full circle in L)."""
    return d / 2 * math.log(length / (2 * math.pi)) / math.log(base)


def threshold_index(d: int, old: tuple[float, int], new: tuple[float, int]) -> float:
    """i* = (d/2)·ln(L'/L)/ln(b'/b): pair i reaches a larger angle at L' with b' than at L with b iff i < i*."""
    (b, length), (b_new, length_new) = old, new
    return d / 2 * math.log(length_new / length) / math.log(b_new / b)


def new_angle_pairs(inv_old: torch.Tensor, length: int, inv_new: torch.Tensor, length_new: int) -> list[int]:
    """Brute force: pairs that did not turn a full circle in the old window and whose largest angle at the new
    length exceeds the largest angle they had seen. (Relative tolerance so that an exact tie is not counted.)"""
    partial = 2 * math.pi / inv_old > length
    larger = length_new * inv_new > length * inv_old * (1 + 1e-9)
    return (partial & larger).nonzero().flatten().tolist()


def llama_config(**rope) -> LlamaConfig:
    return LlamaConfig(hidden_size=4096, num_attention_heads=32, max_position_embeddings=rope.pop("max_len"),
                       rope_parameters=rope)


def test_slowest_wavelength_and_full_turns_for_recipe_bases():
    """λ_63 = 2π·b^(126/128): 5e5 -> 2.56e6 tokens (19.5x 128K), 8e6 -> 3.92e7 (598x 64K),
    1.28e8 -> 6.01e8 (1146x 512K). Pairs with λ <= L turn a full circle inside the training window:
    35 of 64 for (5e5, 8K) — Llama 3's pre-training —, 38 for (8e6, 64K), 39 for (1.28e8, 512K)."""
    slow = {b: float(wavelengths(D, b)[-1]) for b in (LLAMA3_BASE, PROLONG_BASE_64K, PROLONG_BASE_512K)}
    assert 2.55e6 < slow[LLAMA3_BASE] < 2.57e6 and 19.4 < slow[LLAMA3_BASE] / (128 * K) < 19.6
    assert 3.91e7 < slow[PROLONG_BASE_64K] < 3.93e7 and 598 < slow[PROLONG_BASE_64K] / (64 * K) < 599
    assert 6.00e8 < slow[PROLONG_BASE_512K] < 6.02e8 and 1145 < slow[PROLONG_BASE_512K] / (512 * K) < 1147
    full = lambda b, n: int((wavelengths(D, b) <= n).sum())  # noqa: E731
    assert (full(LLAMA3_BASE, 8 * K), full(PROLONG_BASE_64K, 64 * K), full(PROLONG_BASE_512K, 512 * K)) == (35, 38, 39)
    for b, n in ((LLAMA3_BASE, 8 * K), (PROLONG_BASE_64K, 64 * K), (PROLONG_BASE_512K, 512 * K)):
        assert math.floor(critical_index(D, b, n)) + 1 == full(b, n)


def test_threshold_formula_matches_brute_force():
    """The closed form i_c < i < i* equals the brute-force count for many (b, L, b', L')."""
    for b, n in ((1e4, 4 * K), (LLAMA3_BASE, 8 * K), (PROLONG_BASE_64K, 64 * K)):
        for grow in (2, 8, 16, 64):
            for ratio in (1.5, 4.0, 16.0, 50.0, 300.0):
                got = new_angle_pairs(inv_freq(D, b), n, inv_freq(D, b * ratio), n * grow)
                i_c, i_star = critical_index(D, b, n), threshold_index(D, (b, n), (b * ratio, n * grow))
                assert got == [i for i in range(D // 2) if i_c < i < i_star], (b, n, grow, ratio)


def test_prolong_stage_bases_leave_fewer_pairs_at_unseen_angles_than_dynamic_ntk():
    """Llama-3-8B (5e5, 8K) -> 64K: keeping 5e5 (46 pairs turn a full circle inside 64K) puts pairs 35-63 (29) at
    unseen angles; the dynamic-NTK base 5e5·8^(128/126) ≈ 4.13e6 ("roughly 4m", ProLong Table 18) aligns pair 63
    exactly and leaves 35-62 (28);
    ProLong's 8e6 (b'/b = 16, i* = 64·ln8/ln16 = 48) leaves 35-47 (13); the slowest pair reaches only 52%
    of the largest angle it had seen. Stage 2 (8e6, 64K) -> 512K: i_c = 37.3; NTK's 8e6·8^(128/126) ≈ 6.61e7
    ("roughly 64×10^6", Table 19) and 6.4e7 leave 38-63 (26), 1.28e8 leaves 38-47 (10), 2.56e8 only 38."""
    old = inv_freq(D, LLAMA3_BASE)
    ntk = LLAMA3_BASE * 8 ** (D / (D - 2))
    assert 4.13e6 < ntk < 4.14e6
    assert new_angle_pairs(old, 8 * K, old, 64 * K) == list(range(35, 64))
    assert int((wavelengths(D, LLAMA3_BASE) <= 64 * K).sum()) == 46  # keeping 5e5: 46 full turns inside 64K
    assert new_angle_pairs(old, 8 * K, inv_freq(D, ntk), 64 * K) == list(range(35, 63))
    assert math.isclose(64 * K * float(inv_freq(D, ntk)[-1]), 8 * K * float(old[-1]), rel_tol=1e-12)
    assert new_angle_pairs(old, 8 * K, inv_freq(D, PROLONG_BASE_64K), 64 * K) == list(range(35, 48))
    assert math.isclose(threshold_index(D, (LLAMA3_BASE, 8 * K), (PROLONG_BASE_64K, 64 * K)), 48.0)
    ratio = 64 * K * float(inv_freq(D, PROLONG_BASE_64K)[-1]) / (8 * K * float(old[-1]))
    assert 0.52 < ratio < 0.53

    s1 = inv_freq(D, PROLONG_BASE_64K)
    assert 37.2 < critical_index(D, PROLONG_BASE_64K, 64 * K) < 37.3
    ntk2 = PROLONG_BASE_64K * 8 ** (D / (D - 2))
    assert 6.61e7 < ntk2 < 6.62e7
    assert new_angle_pairs(s1, 64 * K, inv_freq(D, 6.4e7), 512 * K) == list(range(38, 64))
    assert new_angle_pairs(s1, 64 * K, inv_freq(D, ntk2), 512 * K) == list(range(38, 63))
    assert new_angle_pairs(s1, 64 * K, inv_freq(D, PROLONG_BASE_512K), 512 * K) == list(range(38, 48))
    assert new_angle_pairs(s1, 64 * K, inv_freq(D, 2.56e8), 512 * K) == [38]


def test_dynamic_ntk_base_from_installed_transformers():
    """transformers' `dynamic` rope function at seq_len = 8·L with factor 1 gives the base b·8^(d/(d-2)) that
    ProLong calls the dynamic-NTK suggestion (≈ 4.13e6 from 5e5; ≈ 6.61e7 from 8e6)."""
    for b, n in ((LLAMA3_BASE, 8 * K), (PROLONG_BASE_64K, 64 * K)):
        cfg = llama_config(rope_type="dynamic", rope_theta=b, factor=1.0, max_len=n)
        inv, attention = ROPE_INIT_FUNCTIONS["dynamic"](cfg, "cpu", seq_len=8 * n)
        expected = inv_freq(D, b * 8 ** (D / (D - 2)), dtype=torch.float32)
        assert attention == 1.0 and torch.allclose(inv, expected, rtol=1e-5)


def test_llama31_scaling_puts_every_partial_pair_at_unseen_angles_at_128k():
    """transformers' `llama3` rope with Meta's values (factor 8, low 1, high 4, original 8192, base 5e5): at
    131072 the 29 pairs that never turned a full circle in 8K (35-63) all reach larger angles than in 8K — the
    low band by exactly 2x (128K/8 = 16K vs 8K); PI with s = 16 would leave none. 39 pairs turn a full circle
    inside 131072 after the scaling. No attention temperature (factor 1.0)."""
    cfg = llama_config(rope_type="llama3", rope_theta=LLAMA3_BASE, factor=8.0, low_freq_factor=1.0,
                       high_freq_factor=4.0, original_max_position_embeddings=8 * K, max_len=128 * K)
    inv, attention = ROPE_INIT_FUNCTIONS["llama3"](cfg, "cpu")
    inv, old = inv.double(), inv_freq(D, LLAMA3_BASE)
    assert attention == 1.0
    assert new_angle_pairs(old, 8 * K, inv, 128 * K) == list(range(35, 64))
    assert torch.allclose(128 * K * inv[35:] / (8 * K * old[35:]), torch.full((29,), 2.0, dtype=torch.float64),
                          rtol=1e-6)
    assert int((2 * math.pi / inv <= 128 * K).sum()) == 39
    assert new_angle_pairs(old, 8 * K, old / 16, 128 * K) == []


def test_fu_budget_and_compute_arithmetic():
    """Fu et al. §4: batch 4M tokens, 5B tokens, printed as '5B / 4M = 2000 optimization steps' — but
    5e9/4e6 = 1250 (1280 with binary prefixes). Table 2 (8×A100, 7B): 3 days / 10B tokens at 4K, 10 days / 10B
    at 80K: 80K is 3.3x slower ('only 3x slower'), and 5B tokens take 5 days ('takes 5 days')."""
    assert 5e9 / 4e6 == 1250 and (5 * 2**30) / (4 * 2**20) == 1280
    assert 10 / 3 == 3.3333333333333335 and 10 * 5 / 10 == 5
    assert 13 / 5 == 2.6  # 13B: 5 days at 4K vs 13 days at 64K


def test_slimpajama_mix_paper_vs_code():
    """Fu et al. §3 (LLaMA's mix): CC 67, C4 15, GitHub 4.5, Wikipedia 4.5, books 4.5, ArXiv 2.5, StackExchange 2.0
    (%) sums to 100. The released code budgets each source by another set of shares (utils.SLIMPAJAMA_ORIGINAL_MIX:
    CC 0.534, C4 0.266, GitHub 0.050, ArXiv 0.043, Book 0.041, Wikipedia 0.034, StackExchange 0.032), which also
    sums to 1 but is not the paper's list."""
    paper = {"cc": 67, "c4": 15, "github": 4.5, "wiki": 4.5, "book": 4.5, "arxiv": 2.5, "stackexchange": 2.0}
    code = {"c4": 0.26609933, "cc": 0.53374772, "stackexchange": 0.03169647, "wiki": 0.03402128,
            "github": 0.05004782, "arxiv": 0.04290379, "book": 0.0414836}
    assert math.isclose(sum(paper.values()), 100) and math.isclose(sum(code.values()), 1.0, abs_tol=1e-7)
    assert abs(code["cc"] * 100 - paper["cc"]) > 10 and abs(code["c4"] * 100 - paper["c4"]) > 10


def test_per_source_length_upsampling_arithmetic():
    """Keeping documents shorter than 4K with probability r and every longer one raises the long share of a
    source from p to q = p/(p + r(1-p)); from 30% to 70% needs r = p(1-q)/(q(1-p)) = 9/49 ≈ 0.18 (long weight
    ×5.4 relative to short); the README's r = 0.1 would give 81% from 30%. Because each source then fills its own
    token budget, the domain proportions do not move — a simulation with per-source budgets checks both."""
    share = lambda p, r: p / (p + r * (1 - p))  # noqa: E731
    assert math.isclose(share(0.3, 9 / 49), 0.7) and 0.18 < 9 / 49 < 0.19 and 5.4 < 49 / 9 < 5.5
    assert 0.81 < share(0.3, 0.1) < 0.82
    # Sources differ (utils.MEDIUM_LENGTH: books 121,602 vs C4 315), so "about 30%" can only be an overall share.
    # With the source weights w_s fixed by the budgets, the overall share after sampling is sum_s w_s q(p_s), and
    # q is concave in p for r < 1, so it is <= q(0.3) = 81%; uneven sources can give about 70% with r = 0.1.
    ps = [i / 100 for i in range(1, 100)]
    assert all(share(a, 0.1) + share(c, 0.1) < 2 * share((a + c) / 2, 0.1) for a, c in zip(ps, reversed(ps)) if a != c)
    w, p = (0.5, 0.5), (0.1, 0.5)
    assert math.isclose(sum(x * y for x, y in zip(w, p)), 0.3)
    overall = sum(x * share(y, 0.1) for x, y in zip(w, p))
    assert 0.70 < overall < 0.73 < share(0.3, 0.1)

    gen = torch.Generator().manual_seed(0)
    mix = {"web": 0.8, "book": 0.1, "code": 0.1}
    long_frac = {"web": 0.05, "book": 0.6, "code": 0.3}  # token share of >= 4K documents before sampling
    budget, kept, long_kept = 200_000, dict.fromkeys(mix, 0), dict.fromkeys(mix, 0)
    for source, w in mix.items():
        while kept[source] < budget * w:  # the source's own budget, as in slimpajama_packing.py
            is_long = bool(torch.rand(1, generator=gen) < long_frac[source])
            if not is_long and torch.rand(1, generator=gen) > 0.1:
                continue
            kept[source] += 100
            long_kept[source] += 100 * is_long
    total = sum(kept.values())
    for source, w in mix.items():
        assert abs(kept[source] / total - w) < 1e-3
        assert long_kept[source] / kept[source] > long_frac[source] + 0.1


def test_prolong_token_budgets_and_batches():
    """ProLong Table 9 / README: 20B tokens at 64K + 20B at 512K, batch 4M then 8M tokens. train_64K.sh:
    64 sequences × 65,536 × 5000 steps; train_512K.sh: 128 × 524,288 / 8 (sequence parallel) × 2500 steps —
    both exactly 20,971,520,000 tokens. 40B vs Llama 3.1's 800B = 5%."""
    stage1_batch, stage2_batch = 64 * 65536, 128 * 524288 // 8
    assert (stage1_batch, stage2_batch) == (4 * 2**20, 8 * 2**20)
    assert stage1_batch * 5000 == stage2_batch * 2500 == 20_971_520_000
    assert 40 / 800 == 0.05


def test_prolong_mixture_proportions_script_vs_table_9():
    """train_64K.sh weights: code repos 0.3 + books 0.3 (long) and 0.40 of short data including 0.03 textbooks;
    Table 9 counts textbooks as long (30/30/3) and ShortMix as 37%: 0.1/0.37 = 27%, 0.04/0.37 = 11%,
    0.03/0.37 = 8%. train_512K.sh: code 0.15 at 512K + 0.15 at 64K (50/50), books 0.05 + 0.25 (17/83), the
    long share still 0.6."""
    stage1 = {"code64k": 0.3, "book64k": 0.3, "fineweb-edu": 0.1, "fineweb": 0.1, "stackexchange": 0.04,
              "wiki": 0.04, "tulu": 0.03, "arxiv": 0.03, "openwebmath": 0.03, "textbooks": 0.03}
    assert math.isclose(sum(stage1.values()), 1.0)
    assert math.isclose(stage1["code64k"] + stage1["book64k"], 0.6)
    short_mix = {k: v for k, v in stage1.items() if k not in ("code64k", "book64k", "textbooks")}
    assert math.isclose(sum(short_mix.values()), 0.37)
    table9 = {"fineweb-edu": 27, "fineweb": 27, "wiki": 11, "stackexchange": 11, "tulu": 8, "openwebmath": 8,
              "arxiv": 8}
    assert {k: round(100 * v / 0.37) for k, v in short_mix.items()} == table9

    stage2 = {"code512k": 0.15, "code64k": 0.15, "book512k": 0.05, "book64k": 0.25}
    assert math.isclose(sum(stage2.values()), 0.6)
    assert round(100 * stage2["code512k"] / 0.30) == 50 and round(100 * stage2["book512k"] / 0.30) == 17


def test_prolong_dependency_count_hypothesis():
    """ProLong §4: one document of length n·d has (n-1)(d-1) more dependencies spanning exactly d tokens
    (positions j and j+d-1) than n documents of length d. Brute-force count."""
    def spans(length: int, d: int) -> int:
        return sum(1 for j in range(length) if j + d - 1 < length)

    for n in (1, 2, 8):
        for d in (2, 5, 64):
            assert spans(n * d, d) - n * spans(d, d) == (n - 1) * (d - 1)


def test_prolong_below_llama31_8b_only_on_citation_at_128k():
    """ProLong Table 10 rows at 128K, the same numbers as HELMET (ICLR 2025, arXiv 2410.02694v3) Fig. 6 at 128K:
    ProLong is below Llama-3.1-8B-Instruct in citation only (1.4 vs 2.9); summarization is higher (29.2 vs 27.0)."""
    cats = ("recall", "rag", "icl", "rerank", "qa", "summ", "cite")
    prolong = dict(zip(cats, (98.8, 63.2, 86.5, 22.5, 43.9, 29.2, 1.4)))
    llama = dict(zip(cats, (95.2, 59.5, 83.9, 14.0, 43.2, 27.0, 2.9)))
    assert [c for c in cats if prolong[c] < llama[c]] == ["cite"]
    assert prolong["summ"] > llama["summ"]
    assert round(sum(prolong.values()) / 7, 1) == 49.4 and round(sum(llama.values()) / 7, 1) == 46.5


def test_quoted_table_rows_average_to_the_printed_average():
    """Averages of rows quoted in the chapter (ProLong arXiv HTML text) equal the printed 'Avg.' to 0.05."""
    rows = {  # (categories, printed avg)
        "T4 books/repos 1:1": ([96.0, 54.9, 29.4, 73.9, 35.7, 37.9], 54.6),
        "T4 code repos": ([99.2, 53.8, 29.0, 61.2, 34.7, 36.2], 52.3),
        "T4 CommonCrawl": ([84.1, 53.3, 28.1, 67.5, 35.2, 37.0], 50.9),
        "T8 0%": ([65.7, 58.1, 38.5, 80.3, 49.7, 42.1], 55.7),
        "T8 1%": ([61.5, 57.0, 38.3, 80.8, 45.3, 41.5], 54.1),
        "T8 50%": ([45.8, 48.8, 18.8, 70.5, 42.3, 33.3], 43.3),
        "T18 0.5e6": ([25.8, 37.0, 4.4, 73.8, 17.5, 16.3], 29.1),
        "T18 4e6": ([81.3, 47.8, 18.2, 76.5, 31.8, 36.3], 48.7),
        "T18 8e6": ([96.0, 54.9, 29.4, 73.9, 35.7, 37.9], 54.6),
        "T19 64e6": ([98.8, 57.8, 30.4, 82.2, 38.2, 38.3], 57.6),
        "T19 128e6": ([98.8, 57.4, 30.7, 80.0, 40.4, 38.8], 57.7),
        "T19 256e6": ([98.8, 56.8, 33.8, 79.8, 37.9, 39.7], 57.8),
        "T24 Fu et al.": ([95.8, 52.1, 23.1, 72.0, 31.0, 37.0], 51.8),
        "T10 ProLong": ([98.8, 63.2, 86.5, 22.5, 43.9, 29.2, 1.4], 49.4),
        "T10 Llama-3.1-8B": ([95.2, 59.5, 83.9, 14.0, 43.2, 27.0, 2.9], 46.5),
        "T6 ShortMix short": ([81.6, 65.3, 58.0, 76.2, 46.6], 65.5),
        "T6 original short": ([82.1, 66.5, 59.4, 77.1, 44.7], 66.0),
    }
    for name, (values, avg) in rows.items():
        assert abs(sum(values) / len(values) - avg) <= 0.05 + 1e-9, name
