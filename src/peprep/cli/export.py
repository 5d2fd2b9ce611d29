"""Export commands: `peprep export anki|markdown|pdf` (library: `peprep.export`)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from peprep.cli.app import ContentOption, app, console, load as _load

export_app = typer.Typer(
    help="Export the content: an Anki deck, a Markdown handbook, a PDF handbook.\n\n"
         "Example: peprep export anki ~/peprep.apkg",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(export_app, name="export")


@contextmanager
def _reporting(what: str) -> Iterator:
    """A progress bar fed by the export's progress callback; an ExportError becomes message + fix, exit 1."""
    from peprep.export import ExportError
    from peprep.export.output import no_progress

    # A live bar only on a terminal: in a pipe or a log it would leave blank lines behind.
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[step]}"), console=console, transient=True, disable=not console.is_terminal)
    with bar:
        task = bar.add_task(what, total=1.0, step="")
        try:
            yield (lambda fraction, step: bar.update(task, completed=fraction, step=step)) if console.is_terminal else no_progress
        except ExportError as exc:
            bar.stop()
            console.print(f"[red]{escape(exc.message)}[/red]\n  fix: {escape(exc.fix)}", soft_wrap=True)
            raise typer.Exit(1) from None


def _done(result) -> None:
    console.print(f"[green]wrote[/green] {escape(result.describe())}", soft_wrap=True)


@export_app.command()
def anki(
    file: Path = typer.Argument(..., metavar="FILE.apkg", help="the deck to write (replaced if it exists)"),
    chapter: Optional[list[str]] = typer.Option(None, "--chapter", metavar="ID",
                                                help="only this chapter (repeatable), e.g. rope"),
    content: Optional[Path] = ContentOption,
) -> None:
    """Write an Anki deck: one note per question, a sub-deck per chapter, math for Anki's MathJax.

    Re-importing a newer export updates the notes in place (same ids) and keeps your review history.

    Example: peprep export anki ~/peprep.apkg --chapter rope
    """
    from peprep.export.anki import export_anki

    loaded = _load(content)
    with _reporting("Anki") as progress:
        _done(export_anki(loaded, file, chapter or None, progress))


@export_app.command()
def markdown(
    folder: Path = typer.Argument(..., metavar="DIR", help="a new or empty folder, or an earlier export to replace"),
    content: Optional[Path] = ContentOption,
) -> None:
    """Write the handbook as Markdown (one file per chapter, glossary, references, figures; $…$ math kept).

    Example: peprep export markdown ~/peprep-handbook
    """
    from peprep.export.markdown import export_markdown

    loaded = _load(content)
    with _reporting("Markdown") as progress:
        _done(export_markdown(loaded, folder, progress))


@export_app.command()
def pdf(
    file: Path = typer.Argument(..., metavar="FILE.pdf", help="the PDF to write (replaced if it exists)"),
    content: Optional[Path] = ContentOption,
) -> None:
    """Print the handbook to PDF (cover, contents, every chapter with answers) with headless Chromium.

    Example: peprep export pdf ~/peprep.pdf
    """
    from peprep.export.pdf import export_pdf

    loaded = _load(content)
    with _reporting("PDF") as progress:
        _done(export_pdf(loaded, file, progress))
