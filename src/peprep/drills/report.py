"""A check report as plain lines of Chinese text (the CLI prints them; tests read them)."""

from __future__ import annotations

from peprep.drills.check import Report
from peprep.drills.session import format_duration

MARK = {"pass": "✓", "fail": "✗", "error": "✗", "timeout": "⏱", "not-run": "·"}


def report_lines(report: Report) -> list[str]:
    drill = report.drill
    lines = [f"题目 {drill.name}（{drill.title}） · 文件 {report.path} · 随机种子 {report.seed}"]
    if report.status == "broken":
        lines += [f"✗ 文件无法载入：{report.problem}", "  没有运行任何检查；修好后再运行 peprep drill check。"]
        return lines
    for r in report.results:
        lines.append(f"{MARK[r.status]} {r.title}")
        if r.status == "fail":
            lines.append(f"    最小失败输入：{r.case}")
            lines.append(f"    {r.detail}")
            if r.bug_message:
                lines.append(f"    诊断：{r.bug_message}")
        elif r.status == "error":
            lines.append(f"    输入：{r.case}")
            lines.append(f"    {r.detail}")
        elif r.status == "timeout":
            lines.append(f"    {r.detail}")
        elif r.status == "not-run":
            lines.append("    未运行")
    passed = sum(r.status == "pass" for r in report.results)
    total = len(report.results)
    if report.status in ("timeout", "crashed"):
        lines.append(f"✗ {report.problem}")
    elapsed = report.elapsed_seconds
    timing = f"，用时 {format_duration(elapsed)}（从 drill start 算起）" if elapsed is not None else ""
    if report.passed:
        lines.append(f"通过：{passed}/{total} 项性质全部成立{timing}。")
    else:
        lines.append(f"未通过：{passed}/{total} 项性质成立{timing}。用 --seed {report.seed} 可以复现这次的输入。")
    return lines


def report_json(report: Report) -> dict:
    return {
        "drill": report.drill.name,
        "file": str(report.path),
        "status": report.status,
        "seed": report.seed,
        "problem": report.problem,
        "problem_line": report.problem_line,
        "elapsed_seconds": report.elapsed_seconds,
        "checks": [
            {"id": r.id, "title": r.title, "status": r.status, "case": r.case, "detail": r.detail, "bug": r.bug,
             "bug_message": r.bug_message, "line": r.line}
            for r in report.results
        ],
    }
