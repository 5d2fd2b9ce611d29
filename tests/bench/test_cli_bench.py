"""`peprep bench`: --json prints exactly the issue's shape; --write writes the report; bad names exit 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from peprep.cli import app


def test_bench_json_and_write(tmp_path):
    out = tmp_path / "RESULTS.md"
    result = CliRunner().invoke(app, ["bench", "--only", "attention", "--quick", "--json", "--write", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["benchmarks"]
    for row in data["benchmarks"]:
        assert set(row) == {"name", "unit", "ours", "peers", "ratio_best_peer_over_ours"}
        assert isinstance(row["ours"], float) and isinstance(row["ratio_best_peer_over_ours"], float)
        assert all(isinstance(k, str) and isinstance(v, float) for k, v in row["peers"].items())
    assert "## Attention with positional biases" in out.read_text(encoding="utf-8")


def test_bench_unknown_name_exits_2():
    result = CliRunner().invoke(app, ["bench", "--only", "gpu"])
    assert result.exit_code == 2 and "unknown benchmark" in result.output
