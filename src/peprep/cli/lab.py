"""Lab commands: `peprep lab list`, `peprep lab run TASK` (library: `peprep.lab`).

Progress bars are rich's; when stdout is not a terminal they are switched off and one line per finished
stage is printed instead, so logs and CI output stay clean.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from peprep.cli.app import app, console

REPO = Path(__file__).resolve().parents[3]
SHIPPED_RESULTS = REPO / "content" / "lab" / "extrapolation-results.json"
SHIPPED_FIGURE = REPO / "content" / "figures" / "extrapolation-lab.png"

lab_app = typer.Typer(
    help="Run the lab's small experiments on the CPU (cached, seeded, with progress bars).\n\n"
         "Example: peprep lab run extrapolation --quick",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(lab_app, name="lab")


class RichReporter:
    """peprep.lab's Reporter on a rich Progress (disabled, with plain lines instead, when not a TTY)."""

    def __init__(self, progress: Progress):
        self.progress, self.tasks = progress, {}

    def start(self, name: str, total: int) -> None:
        self.tasks[name] = self.progress.add_task(name, total=total)

    def advance(self, name: str, n: int = 1) -> None:
        self.progress.advance(self.tasks[name], n)

    def done(self, name: str, message: str) -> None:
        if name in self.tasks:
            self.progress.update(self.tasks[name], completed=self.progress.tasks[self.tasks[name]].total)
        self.progress.console.print(escape(message))


@lab_app.command("list")
def list_tasks() -> None:
    """List the experiments `peprep lab run` knows.

    Example: peprep lab list
    """
    from peprep.lab import TASKS

    for name, summary in TASKS.items():
        console.print(f"[bold]{name}[/bold]  {escape(summary)}")


@lab_app.command("run")
def run(
    task: str = typer.Argument(..., help="experiment name (see peprep lab list)"),
    quick: bool = typer.Option(False, "--quick", help="a reduced run (tiny model, few steps) that finishes in under a minute"),
    out: Optional[Path] = typer.Option(None, "--out", help="output folder (default: experiments/out/<task>[-quick])"),
    ship: bool = typer.Option(False, "--ship", help="also copy the results and figure to content/ (full run only)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="recompute everything instead of reusing cached models"),
) -> None:
    """Run an experiment: train, evaluate, write results.json, table.md and a figure; reuse cached work.

    extrapolation: a tiny byte-level LM per encoding (sinusoidal, learned, RoPE, ALiBi, T5 bias, NoPE)
    trained at 64 tokens and evaluated up to 512, RoPE also with PI / NTK / YaRN at inference.
    The full run takes a few minutes on 2 CPU cores; --ship refreshes the results the chapter shows.

    Example: peprep lab run extrapolation --quick --out /tmp/lab
    """
    from peprep.lab import TASKS

    if task not in TASKS:
        console.print(f"[red]unknown experiment {escape(task)!r}[/red]; known: {', '.join(TASKS)} (peprep lab list)")
        raise typer.Exit(2)
    if ship and quick:
        console.print("[red]--ship needs the full run[/red]: the chapter shows full-run results only; drop --quick")
        raise typer.Exit(2)
    from peprep.lab.extrapolation import QUICK, ExtrapolationConfig, run as run_task, write_outputs

    cfg = QUICK if quick else ExtrapolationConfig()
    out = out or REPO / "experiments" / "out" / (task + ("-quick" if quick else ""))
    command = "peprep lab run extrapolation" + (" --quick" if quick else "")
    columns = (TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    start = time.perf_counter()
    with Progress(*columns, console=console, disable=not console.is_terminal, transient=True) as progress:
        results = run_task(cfg, cache_dir=None if no_cache else out / "cache", reporter=RichReporter(progress),
                           command=command)
    paths = write_outputs(results, out)
    _print_table(results)
    if ship:
        SHIPPED_RESULTS.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(paths[0], SHIPPED_RESULTS)
        shutil.copyfile(paths[2], SHIPPED_FIGURE)
        paths += [SHIPPED_RESULTS, SHIPPED_FIGURE]
    console.print(f"done in {time.perf_counter() - start:.1f} s"
                  + (f" (cached: {', '.join(results['from_cache'])})" if results["from_cache"] else ""))
    for path in paths:
        console.print(f"  wrote {escape(str(path))}")


def _print_table(results: dict) -> None:
    lens = results["config"]["eval_lens"]
    train_len = results["config"]["train_len"]
    table = Table(title=f"perplexity (bytes), trained at {train_len}, evaluated at L", title_justify="left")
    table.add_column("encoding")
    for n in lens:
        table.add_column(f"{n}" if n == train_len else f"{n} ({n / train_len:g}×)", justify="right")
    for row in results["rows"]:
        cells = [results["eval"][row][str(n)] for n in lens]
        table.add_row(row, *("n/a" if "error" in c else f"{c['ppl']:.2f}" for c in cells))
    console.print(table)
