"""The Typer app every command module registers on, and what they share (console, content loading)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    help="位置编码面试通关 — study positional encoding in Transformers for interviews.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
console = Console()
ContentOption = typer.Option(None, "--content", help="content folder (default: the repository's content/)")


def content_dir(content: Optional[Path]) -> Path:
    from peprep.content import default_content_dir

    return content or default_content_dir()


def load(content: Optional[Path]):
    """The content, or a clear message and exit status 1 when it has structural problems."""
    from peprep.content import ContentError, load_content

    try:
        return load_content(content_dir(content))
    except ContentError as exc:
        console.print(f"[red]The content has problems[/red]; run `peprep check` for all of them.\n{escape(str(exc))}")
        raise typer.Exit(1) from None
