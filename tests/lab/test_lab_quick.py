"""`peprep lab run extrapolation --quick` end to end: CLI, results document, table, figure, cache reuse."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from peprep.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_quick_run_writes_results_table_figure_and_reuses_its_cache(tmp_path):
    out = tmp_path / "lab"
    first = run("lab", "run", "extrapolation", "--quick", "--out", str(out))
    assert first.exit_code == 0, first.output
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["task"] == "extrapolation" and results["command"] == "peprep lab run extrapolation --quick"
    assert results["rows"] == ["sinusoidal", "learned", "rope", "rope+pi", "rope+ntk", "rope+yarn", "alibi", "t5", "nope"]
    lens = results["config"]["eval_lens"]
    assert lens[0] == results["config"]["train_len"] and lens[-1] >= 8 * lens[0]
    for row in results["rows"]:
        for n in lens:
            cell = results["eval"][row][str(n)]
            if row == "learned" and n > lens[0]:
                assert cell["error"].startswith("PositionOutOfRange")  # honest n/a, never a number
            else:
                assert 1.0 < cell["ppl"] < 256.0 and 1.0 < cell["ppl_tail"] < 256.0  # bytes: below uniform
    for row in ("rope+pi", "rope+ntk", "rope+yarn"):  # at s = 1 every RoPE row is plain RoPE
        assert results["eval"][row][str(lens[0])] == results["eval"]["rope"][str(lens[0])]
    assert results["from_cache"] == []
    table = (out / "table.md").read_text(encoding="utf-8")
    assert "| learned | " in table and "n/a" in table
    assert (out / "extrapolation-lab.png").stat().st_size > 10_000
    assert "wrote" in first.output and "perplexity" in first.output

    second = run("lab", "run", "extrapolation", "--quick", "--out", str(out))
    assert second.exit_code == 0, second.output
    again = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert again["from_cache"] == ["sinusoidal", "learned", "rope", "alibi", "t5", "nope"]
    assert again["eval"] == results["eval"]  # the cache returns the same numbers
    assert "cached" in second.output


def test_lab_list_and_bad_arguments():
    listed = run("lab", "list")
    assert listed.exit_code == 0 and "extrapolation" in listed.output
    unknown = run("lab", "run", "nope")
    assert unknown.exit_code == 2 and "unknown experiment" in unknown.output
    both = run("lab", "run", "extrapolation", "--quick", "--ship")
    assert both.exit_code == 2 and "--ship needs the full run" in both.output
