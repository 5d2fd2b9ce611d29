"""Content commands: serve, check, stats, search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from peprep.cli.app import ContentOption, app, console, content_dir as _content_dir, load as _load


@app.command()
def serve(
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="port to listen on"),
    content: Optional[Path] = ContentOption,
    db: Optional[Path] = typer.Option(None, "--db", help="progress database for review / mock / progress "
                                      "(default: $PEPREP_DB, else ~/.local/share/peprep/progress.sqlite3)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind; anything but loopback needs --allow-remote"),
    allow_remote: bool = typer.Option(False, "--allow-remote",
                                      help="allow a non-loopback --host (prints a warning: there is no login)"),
) -> None:
    """Start the web app at http://127.0.0.1:PORT (binds to loopback only unless --host ADDR --allow-remote).

    Example: peprep serve --port 8000
    """
    from peprep.web.server import LOOPBACK
    from peprep.web.server import serve as run_server

    if host not in LOOPBACK and not allow_remote:
        console.print(f"[red]refusing to bind {escape(host)}[/red]: the app has no login, so anyone who can reach "
                      "that address could read your answers and change your progress. Add --allow-remote if you "
                      "mean it, or leave --host out to serve on 127.0.0.1.")
        raise typer.Exit(2)
    run_server(host=host, port=port, content_dir=_content_dir(content), db_path=db, allow_remote=allow_remote)


@app.command()
def check(
    content: Optional[Path] = ContentOption,
    rule: Optional[list[str]] = typer.Option(None, "--rule", metavar="NAME", help="run only this rule (repeatable)"),
    list_rules: bool = typer.Option(False, "--rules", help="list the rules and exit"),
    as_json: bool = typer.Option(False, "--json", help="print problems as JSON"),
) -> None:
    """Check the content: schema, ids, grounding, tests named by verified_by, KaTeX, glossary, references.

    Prints each problem as file:line: [rule] message, with how to fix it; exits 1 on any problem.

    Example: peprep check --rule grounding-term
    """
    from peprep.content.check import check_content
    from peprep.content.rules import RULES, STRUCTURAL_RULES

    known = {r.name: r.summary for r in RULES} | STRUCTURAL_RULES
    if list_rules:
        for name, summary in known.items():
            console.print(f"[bold]{name}[/bold]  {escape(summary)}")
        return
    unknown = set(rule or []) - set(known)
    if unknown:
        console.print(f"[red]unknown rule(s): {', '.join(sorted(unknown))}[/red]; see peprep check --rules")
        raise typer.Exit(2)
    root = _content_dir(content)
    problems = check_content(root, set(rule) if rule else None)
    if as_json:
        print(json.dumps([p.to_json() for p in problems], ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            console.print(escape(problem.format(Path.cwd())), soft_wrap=True)
        summary = f"{len(problems)} problem(s)" if problems else "no problems"
        console.print(f"[{'red' if problems else 'green'}]{summary}[/] in {escape(str(root))}")
    raise typer.Exit(1 if problems else 0)


@app.command()
def stats(
    content: Optional[Path] = ContentOption,
    as_json: bool = typer.Option(False, "--json", help="print the counts as JSON"),
) -> None:
    """Count what the content holds per chapter: KPs, questions, 追问, verified claims, figures, references.

    Example: peprep stats --json
    """
    from peprep.content.stats import COUNT_KEYS, content_stats

    result = content_stats(_load(content))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    table = Table("chapter", "title", "KPs", "questions", "追问", "verified", "figures", "refs")
    for row in result["chapters"]:
        table.add_row(row["id"], row["title"], *(str(row[k]) for k in COUNT_KEYS))
    table.add_row("total", "", *(str(result["totals"][k]) for k in COUNT_KEYS), style="bold")
    console.print(table)


@app.command()
def search(
    query: str = typer.Argument(..., help="words to find, Chinese or English (e.g. 外推, 'RoPE 衰减')"),
    limit: int = typer.Option(10, "--limit", min=1, max=100, help="how many results"),
    content: Optional[Path] = ContentOption,
) -> None:
    """Search knowledge points, questions and the glossary; prints ranked results with snippets.

    Example: peprep search "RoPE 衰减"
    """
    from peprep.search import QueryError, SearchIndex

    index = SearchIndex.build(_load(content))
    try:
        hits = index.search(query, limit=limit)
    except QueryError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if not hits:
        suggestion = index.suggest(query)
        console.print("no results" + (f" — did you mean [bold]{escape(suggestion)}[/bold]?" if suggestion else ""))
        raise typer.Exit(1)
    for hit in hits:
        console.print(f"[cyan]{hit.kind:<8}[/cyan] [bold]{escape(hit.title)}[/bold]  [dim]{hit.url}[/dim]")
        console.print("         " + _snippet_markup(hit.snippet), soft_wrap=True)


def _snippet_markup(snippet_html: str) -> str:
    """The search snippet is escaped HTML with <mark>; show the marks in bold yellow."""
    import html

    text = escape(html.unescape(snippet_html.replace("<mark>", "\x00").replace("</mark>", "\x01")))
    return text.replace("\x00", "[bold yellow]").replace("\x01", "[/bold yellow]")

