"""`peprep export anki`: an Anki deck (.apkg) that updates in place when the content changes.

One note per question: the question on the front; the answer, its key points (要点), the 追问 chain
(each with its answer), the figures and the titles of the knowledge points it is answered from on
the back. Sub-decks per chapter (`位置编码::<chapter title>`), tags for difficulty, chapter and topic.

What makes a re-import update instead of duplicate (Anki's importer, `import_anki_package`):

- A note is matched by its GUID, so the GUID is `genanki.guid_for(question id)`: ids are stable
  (content/README.md), so the same question is the same note in every export.
- A matched note is updated only if the incoming modification time is newer than the collection's, so
  notes, cards and the note type carry the content version's time (`peprep.export.version`), which
  grows with every edit and is the same for unchanged content.
- The note type and the decks keep hard-coded ids, and the note type keeps its fields: a changed
  field list makes Anki treat it as a different note type and skip the notes (tests pin the fields).
- Cards already in the collection keep their scheduling: the importer never overwrites review state.

Math is written as `\\(…\\)` and `\\[…\\]` for Anki's MathJax; figures are media files named by a
hash of their bytes, so a regenerated figure arrives under a new name instead of being ignored.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sqlite3
import tempfile
import time
import warnings
import zipfile
from datetime import datetime, timezone
from html import escape
from pathlib import Path

import genanki

from peprep.content.schema import Asked, Chapter, Content, FollowUp, Question, walk_asked
from peprep.export.handbook import TITLE, Handbook, difficulty_text, hashed_name
from peprep.export.output import ExportResult, Progress, absolute, atomic_file, no_progress
from peprep.rendering import pygments_css, render_inline, render_markdown

DECK_ROOT = "位置编码"
# Hard-coded: changing any of these makes every user's next import a second, unrelated deck.
MODEL_ID = 1_587_202_611
ROOT_DECK_ID = 1_587_202_612
FIELDS = ["Id", "问题", "答案", "要点", "追问", "知识点", "图", "章节", "难度"]

FONT_STACK = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", '
              '"Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif')

FRONT = """<div class="peprep" lang="zh-CN">
<div class="meta">{{章节}} · {{难度}}</div>
<div class="question">{{问题}}</div>
</div>"""

BACK = """{{FrontSide}}
<hr id="answer">
<div class="peprep" lang="zh-CN">
<section class="answer">{{答案}}</section>
{{#要点}}<section class="key-points"><h3>要点</h3>{{要点}}</section>{{/要点}}
{{#追问}}<section class="followups"><h3>追问</h3>{{追问}}</section>{{/追问}}
{{#图}}<section class="figures">{{图}}</section>{{/图}}
<section class="kps"><h3>知识点</h3>{{知识点}}</section>
<div class="id">{{Id}}</div>
</div>"""

CSS = f""".card {{ font-family: {FONT_STACK}; font-size: 18px; line-height: 1.65; text-align: left;
  color: #1f2328; background: #fff; max-width: 46em; margin: 0 auto; padding: 0 0.6em; }}
.card.nightMode {{ color: #e6edf3; background: #1e1e1e; }}
.meta, .id {{ color: #6e7781; font-size: 0.8em; }}
.question {{ font-size: 1.15em; font-weight: 600; margin: 0.4em 0; }}
h3 {{ font-size: 0.95em; margin: 1em 0 0.3em; color: #0969da; }}
.followups ol {{ padding-left: 1.4em; }}
.followups li {{ margin: 0.5em 0; }}
.fq {{ font-weight: 600; }}
.ref {{ color: #6e7781; font-size: 0.85em; }}
.display {{ display: block; text-align: center; margin: 0.5em 0; overflow-x: auto; }}
figure {{ margin: 0.8em 0; }} figure img {{ max-width: 100%; }}
figcaption {{ color: #6e7781; font-size: 0.85em; }}
code {{ font-size: 0.9em; }}
.highlight pre {{ padding: 0.6em; overflow-x: auto; border-radius: 4px; }}
{pygments_css()}"""

MODEL = genanki.Model(
    MODEL_ID,
    "peprep 位置编码面试题",
    fields=[{"name": name} for name in FIELDS],
    templates=[{"name": "问答", "qfmt": FRONT, "afmt": BACK}],
    css=CSS,
    sort_field_index=0,
)

# rendering.py marks math as <span|div class="math math-…">TeX (HTML-escaped)</span|div>.
_INLINE_MATH = re.compile(r'<span class="math math-inline">(.*?)</span>', re.S)
_DISPLAY_MATH = re.compile(r'<(span|div) class="math math-display">(.*?)</\1>', re.S)


def anki_math(html: str) -> str:
    """Turn the renderer's math elements into MathJax delimiters Anki typesets: \\(…\\) and \\[…\\]."""
    html = _INLINE_MATH.sub(lambda m: f"\\({m.group(1)}\\)", html)
    return _DISPLAY_MATH.sub(lambda m: f'<{m.group(1)} class="display">\\[{m.group(2)}\\]</{m.group(1)}>', html)


def markdown_html(text: str) -> str:
    return anki_math(str(render_markdown(text)))


def inline_html(text: str) -> str:
    return anki_math(str(render_inline(text)))


def deck_id(chapter_id: str) -> int:
    """A chapter's sub-deck id: fixed by the chapter id (ids never change), so decks never multiply."""
    digest = int.from_bytes(hashlib.sha256(f"peprep-deck:{chapter_id}".encode()).digest()[:8], "big")
    return (1 << 30) + digest % (1 << 30)


def tag(*parts: str) -> str:
    """Anki tags cannot contain spaces; `::` makes them a tree under 位置编码."""
    return "::".join(re.sub(r"\s+", "_", p.strip()) for p in (DECK_ROOT, *parts))


def _followups_html(item: Asked, book: Handbook) -> str:
    if not item.followups:
        return ""
    rows = []
    for follow in item.followups:
        if isinstance(follow, FollowUp):
            rows.append(f'<li><div class="fq">{inline_html(follow.question)}</div>'
                        f'<div class="fa">{markdown_html(follow.answer)}</div>{_followups_html(follow, book)}</li>')
            continue
        target = book.resolve(follow)
        if target is None:  # `peprep check` reports it; the deck still builds
            continue
        where = book.number.get(target.full_id) or book.number.get(book.question_of(target.full_id).id, "")
        rows.append(f'<li><div class="fq">{inline_html(target.question)}</div>'
                    f'<div class="fa">{markdown_html(target.answer)}</div>'
                    f'<div class="ref">（同 {escape(where)} {escape(target.full_id)}）</div></li>')
    return "<ol>" + "".join(rows) + "</ol>"


def _kps_html(question: Question, book: Handbook) -> str:
    rows = []
    for kp_id in question.kp:
        kp = book.kps.get(kp_id)
        title = inline_html(kp.title) if kp else escape(kp_id)
        rows.append(f'<li>{escape(book.number.get(kp_id, ""))} {title} <code>{escape(kp_id)}</code></li>')
    return "<ul>" + "".join(rows) + "</ul>"


def _figures_html(question: Question, book: Handbook, media: dict[str, Path]) -> str:
    out = []
    for kp_id in dict.fromkeys(kp for item in walk_asked(question) for kp in item.kp):
        kp = book.kps.get(kp_id)
        path = book.figure_path(kp) if kp else None
        if path is None:
            continue
        name = hashed_name(path)
        media[name] = path
        out.append(f'<figure><img src="{escape(name)}" alt="{escape(kp.title)}">'
                   f"<figcaption>图 {escape(book.number[kp.id])} {inline_html(kp.title)}</figcaption></figure>")
    return "".join(out)


def build_note(question: Question, chapter: Chapter, book: Handbook, media: dict[str, Path], due: int) -> genanki.Note:
    key_points = "<ul>" + "".join(f"<li>{inline_html(p)}</li>" for p in question.key_points) + "</ul>"
    fields = [
        question.id,
        inline_html(question.question),
        markdown_html(question.answer),
        key_points,
        _followups_html(question, book),
        _kps_html(question, book),
        _figures_html(question, book, media),
        escape(f"{book.number[question.id]} · {chapter.title}"),
        escape(difficulty_text(question.difficulty)),
    ]
    tags = [tag("难度", str(question.difficulty)), tag("章节", chapter.id), *(tag("主题", t) for t in question.tags)]
    return genanki.Note(model=MODEL, fields=fields, tags=tags, guid=genanki.guid_for(question.id), due=due)


def build_package(book: Handbook, progress: Progress = no_progress) -> tuple[genanki.Package, dict[str, Path], int]:
    """The decks (root + one per chapter), their notes, and the media they use."""
    media: dict[str, Path] = {}
    root = genanki.Deck(ROOT_DECK_ID, DECK_ROOT, description=f"{TITLE} · 内容版本 {book.version.label()}")
    decks, count = [root], 0
    total = sum(len(c.questions) for c in book.chapters) or 1
    for chapter in book.chapters:
        deck = genanki.Deck(deck_id(chapter.id), f"{DECK_ROOT}::{chapter.title}", description=escape(chapter.meta.summary))
        for question in chapter.questions:
            deck.add_note(build_note(question, chapter, book, media, due=count))
            count += 1
            progress(0.9 * count / total, f"{count}/{total} 张卡片")
        decks.append(deck)
    return genanki.Package(decks), media, count


def write_apkg(package: genanki.Package, media: dict[str, Path], out: Path, timestamp: int) -> None:
    """genanki's `write_to_file`, made deterministic (fixed zip times, sorted media) and leak-free."""
    zip_time = datetime.fromtimestamp(max(timestamp, 315532800), timezone.utc).timetuple()[:6]

    def add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
        archive.writestr(zipfile.ZipInfo(name, date_time=zip_time), data, compress_type=zipfile.ZIP_DEFLATED)

    with tempfile.TemporaryDirectory(prefix="peprep-anki-") as folder:
        db_path = Path(folder) / "collection.anki2"
        connection = sqlite3.connect(db_path)
        with warnings.catch_warnings():
            # Fields are markdown-it output with raw HTML off; genanki's tag heuristic can only misfire
            # (tests/export/test_anki.py checks the fixture's fields raise no warning at all).
            warnings.filterwarnings("ignore", module="genanki", message="^Field contained the following invalid HTML tags")
            package.write_to_db(connection.cursor(), timestamp, itertools.count(timestamp * 1000))
        connection.commit()
        connection.close()
        names = sorted(media)
        with zipfile.ZipFile(out, "w") as archive:
            add(archive, "collection.anki2", db_path.read_bytes())
            add(archive, "media", json.dumps({str(i): name for i, name in enumerate(names)}).encode())
            for i, name in enumerate(names):
                add(archive, str(i), media[name].read_bytes())


def export_anki(content: Content, out: Path, chapter_ids: list[str] | None = None,
                progress: Progress = no_progress) -> ExportResult:
    started = time.perf_counter()
    book = Handbook.of(content, chapter_ids)
    with atomic_file(out) as temporary:
        package, media, count = build_package(book, progress)
        progress(0.95, "写入 .apkg")
        write_apkg(package, media, temporary, book.version.time)
    final = absolute(out)
    progress(1.0, "完成")
    return ExportResult(final, final.stat().st_size, time.perf_counter() - started, count, "notes")
