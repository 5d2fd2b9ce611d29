"""Each benchmark runs end to end on tiny sizes and returns well-formed results (correctness and shape only)."""

from __future__ import annotations

import json

import pytest
import torch

from peprep.bench import attention, lab, rope
from peprep.bench.machine import copy_bandwidth, describe
from peprep.bench.report import to_json, to_markdown
from peprep.bench.suite import Suite, run_suite

KEYS = {"name", "unit", "ours", "peers", "ratio_best_peer_over_ours"}


def well_formed(results, *, units: set[str]) -> None:
    assert results
    for r in results:
        row = r.to_json()
        assert set(row) == KEYS and row["unit"] in units
        assert row["ours"] > 0 and row["peers"] and all(v > 0 for v in row["peers"].values())
        assert row["ratio_best_peer_over_ours"] > 0
        json.dumps(row, allow_nan=False)


def test_rope_quick_checks_every_competitor_then_times_them():
    results = rope.run(quick=True)
    assert len(results) == 3 * len(rope.QUICK_SHAPES) * len(rope.DTYPES)
    well_formed(results, units={"ms", "GB/s", "% of copy bandwidth"})
    for r in results:
        assert set(r.peers) == {"transformers", "rotary-embedding-torch"}
        assert r.details["copy GB/s"] > 0
        assert max(r.details["max relative error vs reference"].values()) <= rope.TOLERANCE[r.name.split()[-1]
                                                                                          if r.unit == "ms" else "bfloat16"]


def test_rope_refuses_to_time_a_competitor_that_computes_something_else():
    fixture = rope._Fixture(rope.Case((1, 2, 16, 8), "float32"))
    fixture.hf_sin = -fixture.hf_sin  # transformers now rotates the other way
    with pytest.raises(rope.MismatchError, match="transformers"):
        fixture.check()


def test_rope_profile_names_the_peers_temporaries():
    report = rope.profile_peers((1, 4, 1024, 64))  # big enough that the full-size ops lead the table
    hf_ops = {row["op"] for row in report["transformers"]}
    assert {"aten::cat", "aten::neg"} <= hf_ops  # rotate_half's temporaries
    assert sum(row["allocated MB"] for row in report[rope.TORCH_PATH]) == 0
    native = rope._Fixture(rope.Case((1, 2, 16, 8), "float32")).backend.startswith("native")
    assert (rope.OURS in report) != native  # the compiled kernel is one C loop: no ATen ops to show


def test_attention_quick_checks_sdpa_against_the_explicit_softmax():
    results = attention.run(quick=True)
    well_formed(results, units={"ms", "× time without bias"})
    assert all(r.details["max |SDPA − explicit|"] <= attention.TOLERANCE for r in results)


def test_lab_quick_trains_both_models_with_about_the_same_size():
    if why := lab.available():
        pytest.skip(why)
    results = lab.run(quick=True)
    well_formed(results, units={"tokens/s"})
    for r in results:
        ours, theirs = r.details["parameters"].values()
        assert abs(ours - theirs) / ours < 0.05


def test_copy_bandwidth_and_machine_description():
    assert copy_bandwidth(1 << 20, torch.float32, rounds=3) > 0
    info = describe()
    assert info["torch"] == torch.__version__ and info["logical cpus"] >= 1


def test_report_from_a_quick_suite():
    suite = run_suite(("rope", "attention"), quick=True, profile=False)
    assert isinstance(suite, Suite) and suite.seconds.keys() == {"rope", "attention"}
    data = to_json(suite)
    assert list(data) == ["benchmarks"] and all(set(row) == KEYS for row in data["benchmarks"])
    text = to_markdown(suite)
    for heading in ("# Benchmarks", "## Machine", "## RoPE on q and k (CPU)", "## Attention with positional biases",
                    "## JSON (`peprep bench --json`)"):
        assert heading in text
    assert "Do not edit by hand" in text
    with pytest.raises(ValueError, match="unknown benchmark"):
        run_suite(("nope",))
