"""Practice commands: review, mock, progress (with progress export / import).

The terminal flows read answers line by line from standard input, so they work without a TTY (tests
drive them through Typer's runner). `q` at any prompt quits; every rating and every graded mock answer
is already committed by then, so quitting loses nothing. Formulas are printed as readable Unicode
(`peprep.practice.textmath`).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

import typer
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from peprep.cli.app import ContentOption, app, console, load as _load
from peprep.practice.cards import Bank, PracticeItem
from peprep.practice.scheduler import Clock, Rating, Scheduler, format_interval, utc_now
from peprep.practice.store import Store, StoreError, default_db_path
from peprep.practice.textmath import math_to_text

# The clock every practice command reads; tests replace it to fix time.
clock: Clock = utc_now

DbOption = typer.Option(None, "--db", help="progress database (default: $PEPREP_DB, else "
                        "${XDG_DATA_HOME:-~/.local/share}/peprep/progress.sqlite3)")
QUIT = "q"


def _now() -> datetime:
    return clock()


def _store(db: Optional[Path]) -> Store:
    try:
        return Store(db or default_db_path())
    except StoreError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None


def store_faults(command):
    """A disk that is full or read-only mid-session ends the command with a clear message, not a traceback.

    Every rating already acknowledged is committed (`Store.write` is one transaction per rating), so the
    message can say nothing saved was lost.
    """

    @functools.wraps(command)
    def guarded(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (StoreError, sqlite3.OperationalError) as exc:
            console.print(f"[red]cannot use the progress database: {escape(str(exc))}[/red]\n"
                          "Everything saved before this point is kept. Free disk space or fix the file's "
                          "permissions, or choose another file with --db FILE / PEPREP_DB.", soft_wrap=True)
            raise typer.Exit(1) from None

    return guarded


def _ask(prompt: str) -> str:
    """One line of input; end of input or Ctrl-C count as `q`."""
    try:
        return console.input(prompt).strip()
    except (EOFError, KeyboardInterrupt):
        console.print()
        return QUIT


def _show_markdown(text: str) -> None:
    console.print(Markdown(math_to_text(text, code=True)))


def _show_question(bank: Bank, item: PracticeItem, header: str) -> None:
    for parent in bank.chain(item.id)[:-1]:
        console.print(Text(f"  ↳ 上一问：{math_to_text(parent.prompt)}", style="dim"))
    console.print(Panel(Markdown(math_to_text(item.prompt, code=True)), title=header, title_align="left"))


def _show_answer(item: PracticeItem) -> None:
    console.rule("参考答案 model answer", style="green")
    _show_markdown(item.answer)


@app.command()
@store_faults
def review(
    chapter: Optional[list[str]] = typer.Option(None, "--chapter", "-c", help="only this chapter id (repeatable)"),
    tag: Optional[list[str]] = typer.Option(None, "--tag", "-t", help="only questions with this tag (repeatable)"),
    difficulty: Optional[list[int]] = typer.Option(None, "--difficulty", "-d", min=1, max=3,
                                                   help="only this difficulty 1-3 (repeatable)"),
    followups: bool = typer.Option(True, "--followups/--no-followups", help="review 追问 as cards of their own"),
    new_per_day: int = typer.Option(20, "--new-per-day", min=0, help="new cards a day at most"),
    limit: int = typer.Option(0, "--limit", min=0, help="stop after this many cards (0: no limit)"),
    db: Optional[Path] = DbOption,
    content: Optional[Path] = ContentOption,
) -> None:
    """Review with spaced repetition (FSRS): due cards first, then new ones; rate each 1-4.

    Shows a question, waits for your answer (or Enter), reveals the model answer and key points, and asks
    for a rating: 1 Again, 2 Hard, 3 Good, 4 Easy, each with the interval it gives. Every rating is saved
    at once; q quits.

    Example: peprep review --chapter rope --limit 10
    """
    from peprep.practice.review import ReviewFilter, ReviewSession

    bank = Bank.from_content(_load(content))
    _check_chapters(bank, chapter or [])
    store = _store(db)
    session = ReviewSession(bank, store, Scheduler(), _now, ReviewFilter(tuple(chapter or ()), tuple(tag or ()),
                                                                           tuple(difficulty or ()), followups),
                            new_per_day=new_per_day)
    done = 0
    while not limit or done < limit:
        entry, counts = session.peek()
        if entry is None:
            console.print("[green]今天没有要复习的卡片了。[/green] Nothing is due.")
            break
        kind = {"due": "到期 due", "new": "新卡 new", "ahead": "提前 ahead"}[entry.kind]
        _show_question(bank, entry.item, f"{kind} · {entry.item.id} · 到期 {counts.due} · 新 {counts.new}")
        shown = _now()
        if _ask("你的回答（回车看答案，q 退出）> ") == QUIT:
            break
        _show_answer(entry.item)
        for point in entry.item.key_points:
            console.print(f"  • {escape(math_to_text(point))}")
        rating = _ask_rating(session.preview(entry.item.id))
        if rating is None:
            break
        record = session.rate(entry.item.id, rating, duration_ms=_ms(_now() - shown))
        console.print(f"[dim]已保存 saved · 下次 {format_interval(record.due_after - record.reviewed_at)}[/dim]\n")
        done += 1
    console.print(f"本次复习 {done} 张，已全部保存 · reviewed {done}, all saved in {escape(str(store.path))}")


def _ask_rating(preview: dict[Rating, timedelta]) -> Rating | None:
    buttons = "  ".join(f"[bold]{r.value}[/bold] {r.label} ({format_interval(preview[r])})" for r in Rating)
    console.print(buttons)
    while True:
        answer = _ask("评分 1-4（q 退出）> ")
        if answer == QUIT:
            return None
        if answer in ("1", "2", "3", "4"):
            return Rating(int(answer))
        console.print("[yellow]请输入 1、2、3 或 4（或 q）。[/yellow]")


def _ms(delta: timedelta) -> int:
    return max(round(delta.total_seconds() * 1000), 0)


def _check_chapters(bank: Bank, chapters: list[str]) -> None:
    unknown = [c for c in chapters if c not in bank.chapter_titles]
    if unknown:
        console.print(f"[red]unknown chapter(s): {escape(', '.join(unknown))}[/red]; "
                      f"chapters: {escape(', '.join(bank.chapter_titles))}")
        raise typer.Exit(2)


@app.command()
@store_faults
def mock(
    minutes: int = typer.Option(15, "--minutes", "-m", help="length of the interview: 15, 30 or 45"),
    chapter: Optional[list[str]] = typer.Option(None, "--chapter", "-c", help="only this chapter id (repeatable)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="fix the order of questions"),
    open_id: Optional[str] = typer.Option(None, "--open", metavar="ID", help="print a saved scorecard and exit"),
    list_all: bool = typer.Option(False, "--list", help="list saved mock interviews and exit"),
    db: Optional[Path] = DbOption,
    content: Optional[Path] = ContentOption,
) -> None:
    """A timed mock interview that walks the 追问 chain, then a scorecard.

    Type an answer (or press Enter when you answered aloud), tick the key points you covered against the
    model answer, and the interviewer drills deeper after a good answer or moves to a simpler neighbour
    after a poor one. Each answer is saved and scheduled for review; q ends the interview early.

    Example: peprep mock --minutes 30 --chapter rope
    """
    from peprep.practice.mock import DURATIONS, MockError, MockRunner, scorecard

    bank = Bank.from_content(_load(content))
    runner = MockRunner(bank, _store(db), Scheduler(), _now)
    if list_all:
        return _list_mocks(bank, runner)
    if open_id:
        session = runner.load(open_id)
        if session is None:
            console.print(f"[red]no saved mock interview {escape(open_id)}[/red]; see peprep mock --list")
            raise typer.Exit(1)
        return _print_scorecard(scorecard(bank, session))
    if minutes not in DURATIONS:
        console.print(f"[red]--minutes must be one of {', '.join(map(str, DURATIONS))}[/red]")
        raise typer.Exit(2)
    _check_chapters(bank, chapter or [])
    try:
        session = runner.start(chapter or [], minutes, seed)
    except MockError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    console.print(f"模拟面试 mock interview {session.id} · {minutes} 分钟 · q 随时结束")
    while (turn := session.current) is not None:
        if not _mock_turn(bank, runner, session, turn):
            runner.stop(session)
            break
    _print_scorecard(scorecard(bank, session))
    console.print(f"[dim]已保存 saved · 重新打开 reopen: peprep mock --open {session.id}[/dim]")


END_REASONS = {"time": "时间到 time", "exhausted": "问完 done", "stopped": "中途结束 stopped"}
MOVES = {"first": "第一题", "deeper": "追问 deeper", "simpler": "换个简单些的 simpler", "next": "下一题 next"}


def _mock_turn(bank: Bank, runner, session, turn) -> bool:
    """Ask, take the answer, reveal, take the ticks. False when the candidate quits."""
    from peprep.practice.mock import key_points, mention_pattern

    index, item = len(session.turns) - 1, bank[turn.item_id]
    left = runner.interviewer.remaining(session)
    header = f"第 {index + 1} 问 · {MOVES[turn.move]} · 剩余 {_clock_text(left.total_seconds())}"
    _show_question(bank, item, header)
    answer = _ask("你的回答（单行；回车 = 已口头回答；q 结束）> ")
    if answer == QUIT:
        return False
    runner.answer(session, index, answer, aloud=not answer)
    _show_answer(item)
    points = key_points(item)
    mentioned = [i for i, p in enumerate(points) if answer and mention_pattern(p).search(answer)]
    for i, point in enumerate(points):
        mark = "  [cyan](你的回答提到了 mentioned)[/cyan]" if i in mentioned else ""
        console.print(f"  {i + 1}. {escape(math_to_text(point))}{mark}")
    default = " ".join(str(i + 1) for i in mentioned) or "0"
    while True:
        reply = _ask(f"答到的要点编号，空格分隔（回车 = {default}；0 = 都没答到；q 结束）> ")
        if reply == QUIT:
            return False
        ticked = _parse_ticks(reply or default, len(points))
        if ticked is not None:
            break
        console.print(f"[yellow]请输入 1 到 {len(points)} 之间的编号，或 0。[/yellow]")
    following = runner.grade(session, index, ticked)
    console.print(f"[dim]得分 {len(ticked)}/{len(points)} · 已保存 saved[/dim]")
    if following is None:
        reason = {"time": "时间到 time is up", "exhausted": "题目问完了 no questions left"}.get(session.end_reason, "")
        console.print(f"[bold]面试结束 — {reason}[/bold]")
    return True


def _parse_ticks(reply: str, total: int) -> list[int] | None:
    numbers = reply.replace(",", " ").replace("，", " ").split()
    if not all(n.isdigit() for n in numbers):
        return None
    values = {int(n) for n in numbers} - {0}
    return sorted(v - 1 for v in values) if all(1 <= v <= total for v in values) else None


def _clock_text(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _highlight(answer: str, points) -> Text:
    from peprep.practice.mock import mention_spans

    text = Text(answer)
    for start, end in mention_spans(answer, points):
        text.stylize("bold black on yellow", start, end)
    return text


def _print_scorecard(card) -> None:
    session = card.session
    mean = f"{card.mean_score:.0%}" if card.mean_score is not None else "—"
    console.rule(f"成绩单 scorecard · {session.id} · 平均 {mean} · 用时 {_clock_text(card.seconds)}")
    table = Table("#", "题目 question", "得分", "用时", "怎么来的")
    for row in card.rows:
        hit = sum(p.ticked for p in row.key_points)
        table.add_row(str(row.index + 1), escape(math_to_text(row.item.prompt)),
                      f"{hit}/{len(row.key_points)}", _clock_text(row.seconds), MOVES[row.move])
    console.print(table)
    for row in card.rows:
        console.print(f"[bold]{row.index + 1}. {escape(math_to_text(row.item.prompt))}[/bold]")
        console.print(Text("   你的回答：") + (_highlight(row.answer, [p.text for p in row.key_points])
                                               if row.answer else Text("（口头回答 answered aloud）", style="dim")))
        for point in row.key_points:
            mark = "[green]✓[/green]" if point.ticked else "[red]✗[/red]"
            said = " [cyan](提到)[/cyan]" if point.mentioned else ""
            console.print(f"   {mark} {escape(math_to_text(point.text))}{said}")
    if card.weakest:
        console.print("[bold]最薄弱的知识点 weakest knowledge points[/bold]")
        for weak in card.weakest:
            console.print(f"   {weak.score:.0%}  {escape(weak.title)}  [dim]/kp/{weak.kp}[/dim]")


def _list_mocks(bank: Bank, runner) -> None:
    from peprep.practice.mock import MockSession, scorecard

    table = Table("id", "开始 started", "分钟", "章节", "题数", "平均", "状态")
    for saved in runner.store.list_mocks():
        card = scorecard(bank, MockSession.from_dict(saved["data"]))
        mean = f"{card.mean_score:.0%}" if card.mean_score is not None else "—"
        state = END_REASONS.get(card.session.end_reason, "进行中 open")
        table.add_row(saved["id"], saved["started_at"].astimezone().strftime("%Y-%m-%d %H:%M"),
                      str(card.session.minutes), ",".join(card.session.chapters) or "全部", str(len(card.rows)),
                      mean, state)
    console.print(table)


progress_app = typer.Typer(no_args_is_help=False, add_completion=False, rich_markup_mode=None)
app.add_typer(progress_app, name="progress")


@progress_app.callback(invoke_without_command=True)
@store_faults
def progress(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    days: int = typer.Option(14, "--days", min=1, max=365, help="days of forecast"),
    db: Optional[Path] = DbOption,
    content: Optional[Path] = ContentOption,
) -> None:
    """Your progress: per chapter new / learning / mastered / due, retention, forecast, weakest KPs.

    Subcommands: `export FILE` writes everything to versioned JSON; `import FILE` merges such a file.

    Example: peprep progress --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from peprep.practice.progress import progress_report

    bank = Bank.from_content(_load(content))
    store = _store(db)
    report = progress_report(bank, store, _now(), forecast_days=days)
    if as_json:
        print(json.dumps({**report.to_json(), "db": str(store.path)}, ensure_ascii=False))
        return
    table = Table("章节 chapter", "总数", "新 new", "学习中 learning", "已掌握 mastered", "到期 due")
    for row in [*report.chapters, report.totals]:
        table.add_row(escape(row.title), *(str(getattr(row, f)) for f in ("total", "new", "learning",
                                                                          "mastered", "due")),
                      style="bold" if row.id == "total" else None)
    console.print(table)
    upcoming = "  ".join(f"{d:%m-%d} {n}" for d, n in report.forecast if n)
    console.print(f"到期预测 forecast ({days} 天): {upcoming or '—'}")
    if report.retention:
        console.print("记忆保持率 retention: " + "  ".join(f"{r.day:%m-%d} {r.rate:.0%} ({r.reviews})"
                                                         for r in report.retention[-14:]))
    for weak in report.weakest:
        console.print(f"薄弱 weak: {weak.score:.0%}  {escape(weak.title)}  [dim]/kp/{weak.id}[/dim]")
    console.print(f"[dim]{report.reviews} reviews in {escape(str(store.path))}[/dim]")


@progress_app.command("export")
def progress_export(
    file: Path = typer.Argument(..., help="JSON file to write"),
    db: Optional[Path] = DbOption,
) -> None:
    """Write all progress (cards, review log, mock sessions) to a versioned JSON file.

    Example: peprep progress export progress.json
    """
    from peprep.practice.transfer import TransferError, write_export

    try:
        data = write_export(_store(db), file, _now())
    except TransferError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    console.print(f"exported {len(data['cards'])} cards, {len(data['reviews'])} reviews, "
                  f"{len(data['mock_sessions'])} mock interviews to {escape(str(file))}")


@progress_app.command("import")
@store_faults
def progress_import(
    file: Path = typer.Argument(..., help="JSON file written by peprep progress export"),
    db: Optional[Path] = DbOption,
) -> None:
    """Merge a progress export into the database (reviews already present are skipped).

    Example: peprep progress import progress.json
    """
    from peprep.practice.transfer import TransferError, import_progress, read_import

    try:
        data = read_import(file)
    except TransferError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    counts = import_progress(_store(db), data)
    console.print("imported: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
