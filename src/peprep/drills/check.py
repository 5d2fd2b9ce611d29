"""`drill check`: run a candidate's file against a drill in a subprocess with a time limit; build a report.

The subprocess (`peprep.drills.runner`) does the work and writes events; this side never imports
torch, so `peprep drill check` answers a broken or looping file with a clear message instead of hanging.
Inputs are fresh random draws on every check (a new seed each time, printed in the report so a
failure can be replayed with `--seed`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from peprep.drills.catalog import Drill, get_drill
from peprep.drills.session import read_header

DEFAULT_TIMEOUT = 60.0  # seconds for the whole check; importing torch alone takes a few


class DrillError(Exception):
    """The check could not start: unknown drill, unreadable file, no drill named."""


@dataclass
class CheckResult:
    id: str
    title: str
    status: str  # pass | fail | error | timeout | not-run
    case: str | None = None
    detail: str | None = None
    bug: str | None = None
    bug_message: str | None = None
    line: int | None = None
    seconds: float | None = None


@dataclass
class Report:
    drill: Drill
    path: Path
    seed: int
    status: str  # passed | failed | broken (file did not load) | timeout | crashed
    results: list[CheckResult] = field(default_factory=list)
    problem: str | None = None  # why the file did not load, or why the run stopped
    problem_line: int | None = None
    started: datetime | None = None
    finished: datetime | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def elapsed_seconds(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()

    def result(self, check_id: str) -> CheckResult:
        return next(r for r in self.results if r.id == check_id)

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status in ("fail", "error", "timeout")]


def resolve_drill(path: Path, name: str | None) -> tuple[Drill, datetime | None]:
    """The drill to check `path` against (given, or from the file's header) and the header's start time."""
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DrillError(f"找不到文件 {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DrillError(f"读不了文件 {path}：{exc}") from None
    header_name, started = read_header(source)
    name = name or header_name
    if name is None:
        raise DrillError(f"{path} 没有 `# peprep drill: NAME` 头，请用 --drill NAME 指明题目")
    drill = get_drill(name)
    if drill is None:
        raise DrillError(f"没有叫 {name!r} 的题目；`peprep drill list` 列出全部题目")
    return drill, started


def check_file(path: Path, *, drill_name: str | None = None, timeout: float = DEFAULT_TIMEOUT,
               seed: int | None = None, now: datetime | None = None, in_process: bool = False) -> Report:
    """Check `path`; `in_process` skips the subprocess (no time limit: for tests of well-behaved files)."""
    path = Path(path)
    drill, started = resolve_drill(path, drill_name)
    seed = random.randrange(2**31) if seed is None else seed
    events: list[dict] = []
    stopped: str | None = None
    if in_process:
        from peprep.drills.runner import run_checks

        run_checks(drill, path, seed=seed, emit=events.append)
    else:
        events, stopped = _run_subprocess(drill, path, seed, timeout)
    finished = now or datetime.now(timezone.utc)
    return _report(drill, path, seed, events, stopped, started, finished, timeout)


def _run_subprocess(drill: Drill, path: Path, seed: int, timeout: float) -> tuple[list[dict], str | None]:
    with tempfile.TemporaryDirectory(prefix="peprep-drill-") as tmp:
        events_file = Path(tmp) / "events.jsonl"
        events_file.touch()
        cmd = [sys.executable, "-m", "peprep.drills.runner", drill.name, str(path.resolve()), str(events_file), str(seed)]
        proc = subprocess.Popen(cmd, cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        stopped = None
        try:
            _, stderr = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                tail = (stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
                stopped = f"检查进程意外退出（退出码 {proc.returncode}）{('：' + tail[0]) if tail[0] else ''}"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole session: the candidate may have spawned children
            proc.communicate()
            stopped = "timeout"
        events = [json.loads(line) for line in events_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return events, stopped


def _report(drill: Drill, path: Path, seed: int, events: list[dict], stopped: str | None,
            started: datetime | None, finished: datetime, timeout: float) -> Report:
    report = Report(drill=drill, path=path, seed=seed, status="passed", started=started, finished=finished)
    by_id = {e["check"]: e for e in events if e["event"] == "result"}
    load_error = next((e for e in events if e["event"] == "load-error"), None)
    running = [e["check"] for e in events if e["event"] == "start" and e["check"] not in by_id]
    for check in drill.checks:
        e = by_id.get(check.id)
        if e is not None:
            report.results.append(CheckResult(check.id, check.title, e["status"], e.get("case"), e.get("detail"),
                                              e.get("bug"), e.get("bug_message"), e.get("line"), e.get("seconds")))
        elif stopped == "timeout" and check.id in running:
            report.results.append(CheckResult(check.id, check.title, "timeout",
                                              detail=f"超过 {timeout:g} 秒仍未结束（死循环？或者太慢）"))
        else:
            report.results.append(CheckResult(check.id, check.title, "not-run"))
    if load_error is not None:
        report.status, report.problem, report.problem_line = "broken", load_error["message"], load_error.get("line")
    elif stopped == "timeout":
        where = f"在检查「{report.result(running[0]).title}」时" if running else "在载入文件时"
        report.status, report.problem = "timeout", f"超时：{where}超过 {timeout:g} 秒仍未结束（死循环？）"
    elif stopped is not None or not any(e["event"] == "done" for e in events):
        report.status, report.problem = "crashed", stopped or "检查进程没有正常结束"
    elif report.failures():
        report.status = "failed"
    return report
