"""Run one drill's checks on a candidate file and write what happened, one JSON object per line.

    python -m peprep.drills.runner NAME FILE EVENTS.jsonl SEED

The parent (`peprep.drills.check`) starts this in a subprocess with a time limit, so an infinite
loop, a crash or an `os._exit` in the candidate's code cannot take the checker down; the events
written so far say how far it got. Events:

    {"event": "load-error", "kind": "syntax" | "import" | "missing", "message": …, "line": …}
    {"event": "start", "check": id}
    {"event": "result", "check": id, "status": "pass" | "fail" | "error", "case": …, "detail": …,
     "bug": id | null, "bug_message": … | null, "line": … | null, "seconds": …}
    {"event": "done"}

`run_checks` is the same loop without the subprocess (tests use it for speed).
"""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path
from typing import Callable

from peprep.drills.catalog import Drill, get_drill

Emit = Callable[[dict], None]


class LoadError(Exception):
    def __init__(self, kind: str, message: str, line: int | None = None):
        super().__init__(message)
        self.kind, self.message, self.line = kind, message, line


def load_candidate(path: Path, drill: Drill) -> types.ModuleType:
    """Execute the file as a fresh module (no bytecode written next to it); check the required names."""
    source = path.read_text(encoding="utf-8")
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise LoadError("syntax", f"语法错误（第 {exc.lineno} 行）：{exc.msg}", exc.lineno) from None
    module = types.ModuleType(f"peprep_candidate_{abs(hash((str(path), time.time_ns())))}")
    module.__file__ = str(path)
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # anything at import time, SystemExit included, is the file's problem
        from peprep.drills.checks.base import Candidate

        line = Candidate(module, path).line_of(exc)
        where = f"第 {line} 行" if line else "导入时"
        raise LoadError("import", f"导入文件时出错（{where}）：{type(exc).__name__}: {exc}", line) from None
    missing = [name for name in drill.entry if not callable(getattr(module, name, None))]
    if missing:
        names = "、".join(f"`{n}`" for n in missing)
        raise LoadError("missing", f"文件里缺少 {names}：本题要求定义它（名字要一字不差）。")
    return module


def run_checks(drill: Drill, path: Path, *, seed: int, emit: Emit) -> None:
    """Load the candidate and run every property of the drill in order, emitting events."""
    import torch

    from peprep.drills.checks import properties
    from peprep.drills.checks.base import Candidate, CandidateError, Fail

    torch.set_num_threads(1)  # small tensors: threads only add noise (and compete with parallel tests)
    try:
        module = load_candidate(path, drill)
    except LoadError as exc:
        emit({"event": "load-error", "kind": exc.kind, "message": exc.message, "line": exc.line})
        return
    props = properties(drill.checker)
    for check in drill.checks:
        emit({"event": "start", "check": check.id})
        candidate = Candidate(module, path, seed=seed)
        began = time.perf_counter()
        result = {"event": "result", "check": check.id, "status": "pass", "case": None, "detail": None,
                  "bug": None, "bug_message": None, "line": None}
        try:
            props[check.id](candidate)
        except Fail as exc:
            result |= {"status": "fail", "case": exc.case, "detail": exc.detail,
                       "bug": exc.bug.id if exc.bug else None, "bug_message": exc.bug.message if exc.bug else None}
        except CandidateError as exc:
            not_done = isinstance(exc.exc, NotImplementedError)
            detail = "还没有实现（NotImplementedError）" if not_done else str(exc)
            result |= {"status": "error", "case": exc.case, "detail": detail, "line": exc.line}
        result["seconds"] = round(time.perf_counter() - began, 4)
        emit(result)
    emit({"event": "done"})


def main(argv: list[str]) -> int:
    name, file, events, seed = argv
    drill = get_drill(name)
    if drill is None:
        raise SystemExit(f"unknown drill {name!r}")
    with open(events, "a", encoding="utf-8") as out:
        def emit(event: dict) -> None:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            out.flush()  # the parent reads what was written even if this process is killed

        run_checks(drill, Path(file), seed=int(seed), emit=emit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
