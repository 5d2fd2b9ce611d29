"""Drill commands: `peprep drill list|show|start|check|solution` (library: `peprep.drills`)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.markup import escape
from rich.table import Table

from peprep.cli.app import app, console

drill_app = typer.Typer(
    help="Coding drills: write positional-encoding code by hand, then check it against the reference code.\n\n"
         "Example: peprep drill start rope-half",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(drill_app, name="drill")

clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731  (tests replace it)


def _drill_or_exit(name: str):
    from peprep.drills import drill_names, get_drill

    drill = get_drill(name)
    if drill is None:
        console.print(f"[red]没有叫 {escape(name)} 的题目[/red]；可选：{', '.join(drill_names())}", soft_wrap=True)
        raise typer.Exit(2)
    return drill


@drill_app.command("list")
def list_drills() -> None:
    """List the drills: name, title, difficulty and what each one practises.

    Example: peprep drill list
    """
    from peprep.drills import DRILLS

    table = Table(show_lines=False)
    for column in ("题目", "难度", "标题"):
        table.add_column(column, no_wrap=column == "题目")
    for d in DRILLS:
        table.add_row(d.name, str(d.difficulty), d.title)
    console.print(table)
    console.print("peprep drill show NAME 看题目，peprep drill start NAME 开始计时。")


@drill_app.command()
def show(name: str = typer.Argument(..., help="the drill, e.g. rope-half")) -> None:
    """Print a drill's statement and the properties the check verifies.

    Example: peprep drill show rope-kv-cache
    """
    drill = _drill_or_exit(name)
    console.print(f"[bold]{escape(drill.title)}[/bold]  ({drill.name}, 难度 {drill.difficulty})")
    console.print(escape(drill.statement), soft_wrap=True)
    console.print("\n检查的性质：")
    for check in drill.checks:
        console.print(f"  - {escape(check.title)}")


@drill_app.command()
def start(
    name: str = typer.Argument(..., help="the drill, e.g. rope-half"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="file to write (default: ./drill_<name>.py)"),
    force: bool = typer.Option(False, "--force", help="overwrite the file if it exists"),
) -> None:
    """Write a skeleton file: the signature, the statement as docstring, and the start time for timing.

    Example: peprep drill start rope-half --out my_rope.py
    """
    from peprep.drills import skeleton_source

    drill = _drill_or_exit(name)
    path = out or Path(f"drill_{drill.name.replace('-', '_')}.py")
    if path.exists() and not force:
        console.print(f"[red]{escape(str(path))} 已存在[/red]；换一个 --out，或加 --force 覆盖。", soft_wrap=True)
        raise typer.Exit(1)
    path.write_text(skeleton_source(drill, started=clock()), encoding="utf-8")
    console.print(f"已写入 {escape(str(path))}：{escape(drill.title)}。计时从现在开始。", soft_wrap=True)
    console.print(f"写完后运行：peprep drill check {escape(str(path))}", soft_wrap=True)


@drill_app.command()
def check(
    file: Path = typer.Argument(..., help="the candidate's file (written by `peprep drill start` or by hand)"),
    drill: Optional[str] = typer.Option(None, "--drill", help="which drill (default: the file's header)"),
    timeout: float = typer.Option(60.0, "--timeout", min=1.0, help="seconds before the check is stopped"),
    seed: Optional[int] = typer.Option(None, "--seed", help="replay the random inputs of an earlier check"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Check a file against its drill on fresh random inputs and edge cases, in a subprocess with a time limit.

    Says which property failed, on the smallest input tried, and which known bug the output matches;
    prints the time since `drill start` when the file has its header. Exit status 0 when every property
    holds, 1 when one fails, 2 when the file cannot be checked.

    Example: peprep drill check drill_rope_half.py
    """
    from peprep.drills import DrillError, check_file
    from peprep.drills.report import report_json, report_lines

    try:
        report = check_file(file, drill_name=drill, timeout=timeout, seed=seed, now=clock())
    except DrillError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    else:
        for line in report_lines(report):
            console.print(escape(line), soft_wrap=True)
    raise typer.Exit(0 if report.passed else (2 if report.status == "broken" else 1))


@drill_app.command()
def solution(name: str = typer.Argument(..., help="the drill, e.g. rope-half")) -> None:
    """Print the reference solution of a drill (try the drill first).

    Example: peprep drill solution alibi
    """
    from peprep.drills import solution_source

    console.print(escape(solution_source(_drill_or_exit(name))), soft_wrap=True, highlight=False)
