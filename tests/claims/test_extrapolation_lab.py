"""The shipped lab results support what chapter 5 says about them.

content/lab/extrapolation-results.json is written by `peprep lab run extrapolation --ship` (the full run).
These tests read it — they do not rerun the lab — and check (1) that it is the full configuration,
(2) the qualitative claims of `extrapolation.lab-results`, `extrapolation.lab-rope-variants` and
`extrapolation.lab-caveats`, and (3) every number those KPs quote, at the precision quoted.
"""

from __future__ import annotations

import collections
import json
import math
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from peprep.encodings.t5_bias import relative_position_bucket
from peprep.lab.data import load_corpus
from peprep.lab.extrapolation import ExtrapolationConfig

RESULTS = Path(__file__).resolve().parents[2] / "content" / "lab" / "extrapolation-results.json"


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads(RESULTS.read_text(encoding="utf-8"))


def ppl(results: dict, row: str, length: int, metric: str = "ppl") -> float:
    return results["eval"][row][str(length)][metric]


def test_shipped_results_are_the_full_run(results):
    full = asdict(ExtrapolationConfig())
    assert {k: (list(v) if isinstance(v, tuple) else v) for k, v in full.items()} == results["config"]
    assert results["command"] == "peprep lab run extrapolation" and results["from_cache"] == []
    assert max(results["config"]["eval_lens"]) == 8 * results["config"]["train_len"] == 512
    assert results["environment"]["threads"] == 2


def same_corpus(results: dict) -> bool:
    """The corpus is CPython's help text, which differs between Python versions (the results record its hash)."""
    return results["corpus"]["sha256"] == load_corpus().sha256


def test_unigram_reference_on_the_same_corpus(results):
    """PI at 8× is worse than a byte unigram model (ppl ≈ 26.2), sinusoidal at 8× is close to it."""
    if not same_corpus(results):
        pytest.skip(f"this Python ships a different pydoc text than the run ({results['environment']['python']})")
    assert round(unigram_ppl(), 1) == 26.2
    assert ppl(results, "rope+pi", 512) > unigram_ppl() > ppl(results, "sinusoidal", 512)


def test_alibi_stays_flat_to_8x(results):
    """ALiBi's perplexity at 8× is within 2 % of its value at the training length (all tokens and the tail)."""
    base = ppl(results, "alibi", 64)
    for n in results["config"]["eval_lens"]:
        assert abs(ppl(results, "alibi", n) / base - 1) < 0.02
        assert abs(ppl(results, "alibi", n, "ppl_tail") / base - 1) < 0.03


def test_sinusoidal_breaks_right_after_the_training_length(results):
    """Sinusoidal is > 5× worse at 8×; inside the 512 windows its loss jumps by > 1.4 nats between the block of
    positions 32-63 and the block 64-95, right at L_train."""
    assert ppl(results, "sinusoidal", 512) > 5 * ppl(results, "sinusoidal", 64)
    blocks = results["eval"]["sinusoidal"]["512"]["position_loss"]
    assert blocks[2] - blocks[1] > 1.4 and max(blocks[:2]) < 1.7 and min(blocks[2:]) > 3.1


def test_rope_degrades_more_slowly_than_sinusoidal(results):
    for n in (128, 256, 512):
        assert ppl(results, "rope", 64) < ppl(results, "rope", n) < ppl(results, "sinusoidal", n)
    assert ppl(results, "rope", 512) > 2.5 * ppl(results, "rope", 64)
    blocks = results["eval"]["rope"]["512"]["position_loss"]
    assert blocks[-1] > blocks[2] + 1.0 and blocks[2] < 1.5  # a climb, not a cliff at 64


def test_degradation_order_matches_press_fig_1(results):
    """Press et al. 2022 Fig. 1: sinusoidal, rotary and T5 degrade past L, ALiBi does not. Ratio ppl(8×)/ppl(1×):
    sinusoidal > RoPE > T5 > 1 ≈ ALiBi."""
    ratio = {row: ppl(results, row, 512) / ppl(results, row, 64) for row in ("sinusoidal", "rope", "t5", "alibi")}
    assert ratio["sinusoidal"] > ratio["rope"] > ratio["t5"] > 1.5 > 1.02 > ratio["alibi"] > 0.98


def test_learned_is_not_applicable_past_its_table(results):
    for n in results["config"]["eval_lens"][1:]:
        assert results["eval"]["learned"][str(n)]["error"].startswith("PositionOutOfRange")
    assert "ppl" in results["eval"]["learned"]["64"]


def test_rope_variants_without_fine_tuning_rank_yarn_ntk_rope_pi(results):
    """At 8× without retraining: YaRN < NTK-aware < plain RoPE < PI; PI is bad from the first positions on."""
    at = {row: ppl(results, row, 512) for row in ("rope", "rope+pi", "rope+ntk", "rope+yarn")}
    assert at["rope+yarn"] < at["rope+ntk"] < at["rope"] < at["rope+pi"]
    assert results["eval"]["rope+pi"]["512"]["position_loss"][0] > 3.0 > 1.5 > results["eval"]["rope"]["512"]["position_loss"][0]


def test_t5_last_bucket_is_not_penalised_and_t5_degrades(results):
    """T5 (max_distance = 64): distances >= 59 share bucket 31, reached by only 15 query-key pairs of a
    64-token window; after training that bucket's bias is higher than the mid-distance buckets' in every
    head, so past L_train the far keys gain attention mass: ppl doubles by 8×."""
    distance = torch.arange(0, 200)
    buckets = relative_position_bucket(-distance, bidirectional=False, num_buckets=32, max_distance=64)
    assert int(distance[buckets == 31].min()) == 59
    assert sum(64 - d for d in range(59, 64)) == 15
    table = torch.tensor(results["train"]["t5"]["t5_bias_table"])  # (32 buckets, 4 heads)
    mid = buckets[(distance >= 16) & (distance < 59)].unique()
    assert torch.all(table[31] > table[mid].mean(0) + 0.15)
    assert ppl(results, "t5", 512) > 1.9 * ppl(results, "t5", 64)


def unigram_ppl() -> float:
    """exp(entropy) of the byte frequencies of the training text: a model that ignores context."""
    counts = collections.Counter(load_corpus().train.tolist())
    total = sum(counts.values())
    return math.exp(-sum(c / total * math.log(c / total) for c in counts.values()))


QUOTED = {  # (row, length, metric): value as printed in the chapter (two decimals)
    **{("sinusoidal", n, "ppl"): v for n, v in {64: 4.49, 128: 11.90, 256: 19.49, 512: 25.17}.items()},
    ("sinusoidal", 512, "ppl_tail"): 39.41,
    ("learned", 64, "ppl"): 5.48,
    **{("rope", n, "ppl"): v for n, v in {64: 4.13, 128: 4.56, 256: 6.56, 512: 11.04}.items()},
    ("rope", 512, "ppl_tail"): 21.47,
    **{("alibi", n, "ppl"): v for n, v in {64: 4.44, 128: 4.38, 256: 4.38, 512: 4.39}.items()},
    ("alibi", 512, "ppl_tail"): 4.41,
    **{("t5", n, "ppl"): v for n, v in {64: 5.03, 128: 5.55, 256: 7.12, 512: 9.99}.items()},
    ("t5", 512, "ppl_tail"): 14.50,
    **{("nope", n, "ppl"): v for n, v in {64: 6.47, 128: 7.48, 256: 9.25, 512: 10.82}.items()},
    ("nope", 512, "ppl_tail"): 13.27,
    **{("rope+pi", n, "ppl"): v for n, v in {128: 10.12, 256: 20.86, 512: 29.80}.items()},
    ("rope+pi", 512, "ppl_tail"): 32.14,
    **{("rope+ntk", n, "ppl"): v for n, v in {128: 4.18, 256: 5.07, 512: 8.07}.items()},
    ("rope+ntk", 512, "ppl_tail"): 18.49,
    **{("rope+yarn", n, "ppl"): v for n, v in {128: 4.30, 256: 4.78, 512: 5.94}.items()},
    ("rope+yarn", 512, "ppl_tail"): 6.64,
}


def test_numbers_quoted_in_the_chapter(results):
    for (row, n, metric), value in QUOTED.items():
        assert round(ppl(results, row, n, metric), 2) == pytest.approx(value, abs=1e-9), (row, n, metric)
    assert round(ppl(results, "t5", 512) / ppl(results, "t5", 64), 1) == 2.0
    assert round(ppl(results, "sinusoidal", 512) / ppl(results, "sinusoidal", 64), 1) == 5.6
    assert round(ppl(results, "rope", 512) / ppl(results, "rope", 64), 1) == 2.7
    assert round(ppl(results, "alibi", 512) / ppl(results, "alibi", 64), 2) == 0.99
    assert round(ppl(results, "nope", 512) / ppl(results, "nope", 64), 1) == 1.7
    blocks = results["eval"]["sinusoidal"]["512"]["position_loss"]
    assert round(blocks[1], 1) == 1.6 and round(blocks[2], 1) == 3.2
    assert round(results["eval"]["rope+pi"]["512"]["position_loss"][0], 1) == 3.2
    assert round(results["eval"]["rope"]["512"]["position_loss"][0], 1) == 1.5
    table = torch.tensor(results["train"]["t5"]["t5_bias_table"])
    assert torch.all((table[31] > -0.4) & (table[31] < -0.25))
    assert torch.all((table[8:29].mean(0) > -0.7) & (table[8:29].mean(0) < -0.55))
    first = next(iter(results["train"].values()))
    assert round(first["parameters"] / 1e6, 2) == 0.86
    assert results["corpus"]["train_tokens"] + results["corpus"]["valid_tokens"] == 466273
    assert round(results["wall_seconds"]) == 331 and round(results["cpu_seconds"]) == 466  # the run shown
    train = results["train"]
    assert round(train["alibi"]["seconds"] / train["sinusoidal"]["seconds"], 2) == 1.06  # bias on SDPA's fused path
    assert results["wall_seconds"] < 600  # the full run stays under 10 minutes on this 2-core machine
