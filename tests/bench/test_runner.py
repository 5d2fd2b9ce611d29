"""peprep.bench.runner: interleaving, medians and the JSON shape (never timings)."""

from __future__ import annotations

import math

import pytest

from peprep.bench.runner import Result, interleave, medians, percentile


def test_interleave_rotates_the_order_and_counts_every_call():
    calls: list[str] = []
    competitors = {name: (lambda n=name: calls.append(n)) for name in "abc"}
    samples = interleave(competitors, rounds=3, warmup=1)
    assert calls[:3] == ["a", "b", "c"]  # warm-up, in order
    assert calls[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]  # round r starts at competitor r
    assert {k: len(v) for k, v in samples.items()} == {"a": 3, "b": 3, "c": 3}
    assert all(t >= 0 for v in samples.values() for t in v)


def test_interleave_stops_at_max_seconds_but_keeps_three_rounds():
    samples = interleave({"x": lambda: None}, rounds=1000, warmup=0, max_seconds=0.0)
    assert len(samples["x"]) == 3
    with pytest.raises(ValueError):
        interleave({"x": lambda: None}, rounds=0)


def test_medians_and_percentiles():
    assert medians({"a": [3.0, 1.0, 2.0]}) == {"a": 2.0}
    values = [float(i) for i in range(101)]
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99 and percentile([7.0], 99) == 7.0


def test_ratio_is_best_peer_over_ours_in_the_unit_direction():
    times = Result("t", "ms", 2.0, {"slow": 10.0, "fast": 6.0})
    assert times.best_peer == ("fast", 6.0) and times.ratio == 3.0 and times.speedup == 3.0
    rates = Result("r", "GB/s", 8.0, {"a": 1.0, "b": 2.0})
    assert rates.best_peer == ("b", 2.0) and rates.ratio == 0.25 and rates.speedup == 4.0
    assert math.isnan(Result("n", "ms", 1.0, {}).ratio)


def test_json_has_exactly_the_issue_keys():
    row = Result("rope", "ms", 1.23456, {"transformers": 9.87654}, {"not": "exported"}).to_json()
    assert row == {"name": "rope", "unit": "ms", "ours": 1.235, "peers": {"transformers": 9.877},
                   "ratio_best_peer_over_ours": 8.0}
