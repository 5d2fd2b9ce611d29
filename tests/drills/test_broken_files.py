"""`drill check` survives broken files and says clearly what is wrong.

Syntax errors, missing names, import errors and exceptions are caught in-process; an infinite loop
and a hard exit need the real subprocess with its time limit.
"""

from __future__ import annotations

import pytest

from peprep.drills import DrillError, check_file
from peprep.drills.report import report_lines


def test_syntax_error_names_the_line(fixture_file):
    report = check_file(fixture_file("broken", "syntax_error"), drill_name="rope-half", seed=1, in_process=True)
    assert report.status == "broken" and report.problem_line == 3
    assert "语法错误（第 3 行）" in report.problem
    assert all(r.status == "not-run" for r in report.results)
    assert "文件无法载入" in "\n".join(report_lines(report))


def test_missing_function_is_named(fixture_file):
    report = check_file(fixture_file("broken", "missing_function"), drill_name="rope-half", seed=1, in_process=True)
    assert report.status == "broken"
    assert "缺少 `apply_rope`" in report.problem


def test_import_error_is_reported_with_its_line(fixture_file):
    report = check_file(fixture_file("broken", "import_error"), drill_name="rope-half", seed=1, in_process=True)
    assert report.status == "broken" and report.problem_line == 2
    assert "ModuleNotFoundError" in report.problem and "a_module_that_does_not_exist" in report.problem


def test_exception_in_the_candidate_is_reported_per_property(fixture_file):
    report = check_file(fixture_file("broken", "raises"), drill_name="rope-half", seed=1, in_process=True)
    assert report.status == "failed"
    for result in report.results:
        assert result.status == "error" and result.line == 5
        assert "ValueError: boom（候选文件第 5 行）" in result.detail


def test_infinite_loop_is_stopped_by_the_time_limit(fixture_file):
    report = check_file(fixture_file("broken", "infinite_loop"), drill_name="rope-half", seed=1, timeout=10)
    assert report.status == "timeout"
    assert report.result("shape-dtype").status == "timeout"  # the first property is the one that hung
    assert "超时" in report.problem and "输出形状与 dtype 同输入" in report.problem
    assert report.result("values").status == "not-run"


def test_hard_exit_of_the_candidate_is_reported(fixture_file):
    report = check_file(fixture_file("broken", "exits"), drill_name="rope-half", seed=1, timeout=30)
    assert report.status == "crashed"
    assert "退出码 3" in report.problem


def test_files_that_cannot_be_checked(tmp_path):
    with pytest.raises(DrillError, match="找不到文件"):
        check_file(tmp_path / "nope.py", drill_name="alibi")
    plain = tmp_path / "plain.py"
    plain.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(DrillError, match="--drill"):
        check_file(plain)
    with pytest.raises(DrillError, match="没有叫"):
        check_file(plain, drill_name="no-such-drill")
