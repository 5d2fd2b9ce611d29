"""Benchmark command: bench (peprep side by side with the peers; results in benchmarks/RESULTS.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from peprep.cli.app import app, console


@app.command()
def bench(
    only: Optional[list[str]] = typer.Option(None, "--only", metavar="NAME",
                                             help="run only this benchmark: rope, attention, lab, web (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="print the results as JSON on stdout"),
    write: Optional[Path] = typer.Option(None, "--write", metavar="FILE",
                                         help="also write the Markdown report (benchmarks/RESULTS.md)"),
    quick: bool = typer.Option(False, "--quick", help="tiny sizes, a few rounds: checks the machinery, not speed"),
) -> None:
    """Time peprep against the peers, interleaved in one process: RoPE on q and k (fast path vs
    transformers vs rotary-embedding-torch, GB/s vs copy bandwidth), attention with ALiBi / T5 biases
    (SDPA vs explicit softmax), lab training tokens/s vs x-transformers, and the web app's start-up and
    page latency under 50 concurrent clients. Medians and ratios; the full run takes a few minutes.

    Example: peprep bench --json --write benchmarks/RESULTS.md
    """
    from peprep.bench.report import to_markdown, to_text_json
    from peprep.bench.suite import NAMES, run_suite

    names = tuple(only) if only else NAMES
    unknown = set(names) - set(NAMES)
    if unknown:
        console.print(f"[red]unknown benchmark(s): {escape(', '.join(sorted(unknown)))}[/red]; choose from {', '.join(NAMES)}")
        raise typer.Exit(2)
    progress = console if not as_json else type(console)(file=sys.stderr)
    suite = run_suite(names, quick=quick, say=lambda line: progress.print(f"[dim]{escape(line)}[/dim]"))
    if write is not None:
        write.parent.mkdir(parents=True, exist_ok=True)
        write.write_text(to_markdown(suite), encoding="utf-8")
        progress.print(f"wrote {escape(str(write))}")
    if as_json:
        print(to_text_json(suite))
        return
    table = Table("benchmark", "unit", "peprep", "best peer", "ratio best peer / peprep")
    for result in suite.results:
        best = result.best_peer
        table.add_row(escape(result.name), escape(result.unit), f"{result.ours:.4g}",
                      f"{escape(best[0])} {best[1]:.4g}" if best else "—", f"{result.ratio:.3g}")
    console.print(table)
    for note in suite.notes:
        console.print(f"[yellow]{escape(note)}[/yellow]")
