"""`peprep drill list|show|start|check|solution` through Typer's runner with a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

import peprep.cli.drill as drill_cli
import peprep.drills.check as check_module
from peprep.cli import app
from peprep.drills import DRILLS, solution_source

runner = CliRunner()
START = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)
FIXTURES = Path(__file__).resolve().parents[1] / "drills" / "fixtures"


@pytest.fixture
def clock(monkeypatch):
    now = {"t": START}
    monkeypatch.setattr(drill_cli, "clock", lambda: now["t"])
    return now


def invoke(*args: str):
    return runner.invoke(app, ["drill", *args], env={"COLUMNS": "120"})


def test_list_shows_every_drill():
    result = invoke("list")
    assert result.exit_code == 0, result.output
    for d in DRILLS:
        assert d.name in result.output


def test_show_prints_statement_and_checks():
    result = invoke("show", "rope-kv-cache")
    assert result.exit_code == 0
    assert "rope_attention_step" in result.output and "分块预填充" in result.output


def test_unknown_drill_exits_2():
    result = invoke("show", "no-such-drill")
    assert result.exit_code == 2 and "没有叫" in result.output


def test_start_writes_skeleton_and_refuses_to_overwrite(tmp_path, clock):
    out = tmp_path / "mine.py"
    result = invoke("start", "alibi", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# peprep drill: alibi · started 2026-12-04T09:00:00+00:00")
    assert "def alibi_slopes" in text and "NotImplementedError" in text
    again = invoke("start", "alibi", "--out", str(out))
    assert again.exit_code == 1 and "已存在" in again.output
    assert invoke("start", "alibi", "--out", str(out), "--force").exit_code == 0


def test_check_passes_a_solution_and_reports_time_to_solve(tmp_path, clock):
    """The real path: skeleton header + the reference body, checked in a subprocess."""
    drill = next(d for d in DRILLS if d.name == "position-ids")
    path = tmp_path / "solved.py"
    invoke("start", drill.name, "--out", str(path))
    header = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(header + "\n" + solution_source(drill), encoding="utf-8")
    clock["t"] = START + timedelta(minutes=12, seconds=30)
    result = invoke("check", str(path))
    assert result.exit_code == 0, result.output
    assert "通过：5/5 项性质全部成立，用时 12 分 30 秒（从 drill start 算起）" in result.output


def test_check_reports_the_failing_property_input_and_bug(monkeypatch, clock):
    real = check_module.check_file
    monkeypatch.setattr("peprep.drills.check_file",
                        lambda *a, **k: real(*a, **{**k, "in_process": True}))  # skip the subprocess here
    result = invoke("check", str(FIXTURES / "rope_kv_cache" / "sdpa_is_causal.py"), "--drill", "rope-kv-cache",
                    "--seed", "5")
    assert result.exit_code == 1
    out = result.output
    assert "✗ 单步解码（T = 1）等于整段前向的最后一行" in out
    assert "最小失败输入：P=1，T=1" in out
    assert "诊断：因果掩码对齐到了左上角" in out
    assert "用 --seed 5 可以复现" in out


def test_check_of_a_broken_file_exits_2(monkeypatch):
    real = check_module.check_file
    monkeypatch.setattr("peprep.drills.check_file", lambda *a, **k: real(*a, **{**k, "in_process": True}))
    result = invoke("check", str(FIXTURES / "broken" / "syntax_error.py"), "--drill", "rope-half")
    assert result.exit_code == 2 and "语法错误" in result.output


def test_check_json(monkeypatch):
    import json

    real = check_module.check_file
    monkeypatch.setattr("peprep.drills.check_file", lambda *a, **k: real(*a, **{**k, "in_process": True}))
    result = invoke("check", str(FIXTURES / "alibi" / "naive_slopes.py"), "--drill", "alibi", "--json", "--seed", "1")
    data = json.loads(result.output)
    assert data["status"] == "failed"
    failing = {c["id"]: c["bug"] for c in data["checks"] if c["status"] == "fail"}
    assert failing["slopes-other"] == "naive-geometric"


def test_solution_prints_the_reference():
    result = invoke("solution", "t5-bucket")
    assert result.exit_code == 0 and "def relative_position_bucket" in result.output


def test_every_drill_command_has_an_example():
    from typer.main import get_command

    group = get_command(app).commands["drill"]
    assert "Example: peprep drill" in group.help
    for name, command in group.commands.items():
        assert f"Example: peprep drill {name}" in command.help, name
