"""The CLI is a thin face: exit codes, output shapes and error messages, at a fixed console width."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from peprep.cli import app

runner = CliRunner()
K = "content/chapters/01-why/knowledge.yaml"


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "120"})


def test_check_passes_on_valid_content(tree):
    result = run("check", "--content", str(tree.content))
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_check_reports_file_line_rule_and_fix(tree):
    line = tree.replace(K, "refs: [vaswani2017]", "refs: [nobody1999]")
    result = run("check", "--content", str(tree.content))
    assert result.exit_code == 1
    assert f"knowledge.yaml:{line}: [reference-known]" in result.output
    assert "fix:" in result.output


def test_check_json_and_single_rule(tree):
    tree.replace(K, "refs: [vaswani2017]", "refs: [nobody1999]")
    result = run("check", "--content", str(tree.content), "--json", "--rule", "reference-known")
    problems = json.loads(result.output)
    assert result.exit_code == 1 and [p["rule"] for p in problems] == ["reference-known"]
    assert run("check", "--content", str(tree.content), "--rule", "grounding-term").exit_code == 0


def test_check_unknown_rule_is_a_usage_error(tree):
    result = run("check", "--content", str(tree.content), "--rule", "nope")
    assert result.exit_code == 2 and "unknown rule" in result.output


def test_check_lists_rules():
    result = run("check", "--rules")
    assert result.exit_code == 0 and "grounding-formula" in result.output and "katex" in result.output


def test_stats_json_shape(tree):
    result = run("stats", "--json", "--content", str(tree.content))
    data = json.loads(result.output)
    keys = {"knowledge_points", "questions", "followups", "verified_claims", "figures", "references"}
    (chapter,) = data["chapters"]
    assert set(chapter) == keys | {"id", "title"} and set(data["totals"]) == keys
    assert chapter == {"id": "why", "title": "为什么需要位置编码", "knowledge_points": 2, "questions": 2,
                       "followups": 2, "verified_claims": 1, "figures": 0, "references": 1}


def test_stats_on_broken_content_says_so(tree):
    tree.replace(K, "  title: 置换等变", "  titel: 置换等变")
    result = run("stats", "--content", str(tree.content))
    assert result.exit_code == 1 and "peprep check" in result.output and "titel" in result.output


def test_search_prints_ranked_hits(tree):
    result = run("search", "旋转", "--content", str(tree.content))
    assert result.exit_code == 0, result.output
    assert "/kp/why.rope-map" in result.output


def test_search_no_hits_and_too_long(tree):
    assert run("search", "完全不存在的词组", "--content", str(tree.content)).exit_code == 1
    assert run("search", "x" * 500, "--content", str(tree.content)).exit_code == 2
