"""`peprep export markdown DIR`: the handbook as Markdown files that GitHub and Obsidian render.

    DIR/README.md          cover: content version, table of contents
    DIR/01-why.md …        one file per chapter: 知识点, then 面试题 with answers, 要点 and 追问
    DIR/glossary.md        术语表
    DIR/references.md      参考文献
    DIR/figures/           the figures the chapters cite

Content is Markdown already, so bodies and answers are copied as written: `$…$` and `$$…$$` stay math
(GitHub and Obsidian typeset them). Every KP, question, 追问, term and reference gets a custom anchor
named after its id (`<a name="rope.long-term-decay"></a>`, GitHub's documented way to anchor a place
that a heading slug cannot name reliably: titles hold math and CJK punctuation), and links point at
them across files (`02-rope.md#rope.long-term-decay`).
"""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

from peprep.content.markup import split_markup
from peprep.content.schema import Asked, Chapter, Content, FollowUp, KnowledgePoint, Question
from peprep.export.handbook import TITLE, Handbook, difficulty_text
from peprep.export.output import (
    HANDBOOK_MARKER, ExportResult, Progress, absolute, atomic_folder, folder_size, no_progress,
)


def anchor(name: str) -> str:
    return f'<a name="{name}"></a>'


def inert(text: str) -> str:
    """Content Markdown with every `<` outside math and code escaped, so no HTML in it is live.

    The web app renders content with raw HTML off; GitHub and Obsidian would render it, so the export
    escapes it here (math such as $i<j$ and code keep their `<`).
    """
    prose = split_markup(text).prose  # same offsets as `text`, math and code blanked
    return "".join("&lt;" if ch == "<" and prose[i] == "<" else ch for i, ch in enumerate(text))


def block(text: str) -> str:
    """A body, answer or derivation: stripped and inert."""
    return inert(text.strip())


def oneline(text: str) -> str:
    """Headings, list items and link texts are one line in Markdown (and inert)."""
    return inert(" ".join(text.split()))


def cell(text: str) -> str:
    """Text for a table cell: one line, pipes escaped."""
    return oneline(text).replace("|", r"\|")


class MarkdownBook:
    def __init__(self, book: Handbook):
        self.book = book

    # --- where things are --------------------------------------------------------------------------

    def file_of(self, chapter: Chapter) -> str:
        return f"{chapter.folder.name}.md"

    def link(self, item_id: str, here: str) -> str:
        """Relative link to a KP or asked item from file `here` (`#id` within the same file)."""
        chapter = self.book.content.chapter_of(item_id)
        file = self.file_of(chapter) if chapter else "README.md"
        return f"#{item_id}" if file == here else f"{file}#{item_id}"

    def kp_link(self, kp_id: str, here: str) -> str:
        kp = self.book.kps.get(kp_id)
        title = kp.title if kp else kp_id
        return f"[{self.book.number.get(kp_id, '')} {title}]({self.link(kp_id, here)})"

    # --- pages -------------------------------------------------------------------------------------

    def index(self) -> str:
        book, version = self.book, self.book.version
        lines = [f"# {TITLE}", "", "位置编码（Positional Encoding）面试手册：知识点、面试题与追问。", "",
                 f"- 内容版本：`{version.digest}`（{version.date}）",
                 f"- 导出日期：{date.today().isoformat()}", "", "## 目录", ""]
        for chapter in book.chapters:
            n = book.chapter_number(chapter)
            lines.append(f"{n}. [{chapter.title}]({self.file_of(chapter)})"
                         f" — {len(chapter.knowledge_points)} 个知识点，{len(chapter.questions)} 道面试题")
        lines += ["", "- [术语表](glossary.md)", "- [参考文献](references.md)", ""]
        return "\n".join(lines)

    def chapter(self, chapter: Chapter) -> str:
        here, n = self.file_of(chapter), self.book.chapter_number(chapter)
        lines = [f"# {anchor('chapter-' + chapter.id)}第 {n} 章 {chapter.title}", "",
                 f"> {' '.join(chapter.meta.summary.split())}", "",
                 "[目录](README.md) · [术语表](glossary.md) · [参考文献](references.md)", "", "## 知识点", ""]
        lines += [f"- {self.kp_link(kp.id, here)}" for kp in chapter.knowledge_points]
        for kp in chapter.knowledge_points:
            lines += ["", *self.knowledge_point(kp, here)]
        lines += ["", "## 面试题", ""]
        lines += [f"- [{self.book.number[q.id]} {oneline(q.question)}]({self.link(q.id, here)})" for q in chapter.questions]
        for question in chapter.questions:
            lines += ["", *self.question(question, here)]
        return "\n".join(lines) + "\n"

    def knowledge_point(self, kp: KnowledgePoint, here: str) -> list[str]:
        lines = [f"### {anchor(kp.id)}{self.book.number[kp.id]} {oneline(kp.title)}", "", block(kp.body), ""]
        if kp.formula:
            lines += ["$$", kp.formula.strip(), "$$", ""]
        if self.book.figure_path(kp):
            lines += [f"![{cell(kp.title)}](figures/{quote(kp.figure)})", "", f"*图 {self.book.number[kp.id]}：{kp.title}*", ""]
        if kp.misconception:
            lines += [f"> **常见误区**：{oneline(kp.misconception.wrong)}", ">",
                      f"> **纠正**：{oneline(kp.misconception.why)}", ""]
        if kp.refs:
            lines.append("参考文献：" + "，".join(f"[{key}](references.md#ref-{key})" for key in kp.refs) + "  ")
        if kp.code:
            lines.append("代码：" + "，".join(f"`{symbol}`" for symbol in kp.code) + "  ")
        if kp.verified_by:
            lines.append("验证：" + "，".join(f"`{test}`" for test in kp.verified_by) + "  ")
        lines.append(f"`{kp.id}`")
        return lines

    def question(self, question: Question, here: str) -> list[str]:
        meta = [difficulty_text(question.difficulty)] + [f"`{t}`" for t in question.tags]
        lines = [f"### {anchor(question.id)}{self.book.number[question.id]} {oneline(question.question)}", "",
                 " · ".join(meta), "", "**答案**", "", block(question.answer), "", "**要点**", ""]
        lines += [f"- {oneline(point)}" for point in question.key_points]
        lines += ["", *self.grounding(question, here)]
        lines += self.followups(question, here, depth=1)
        return lines

    def grounding(self, item: Asked, here: str) -> list[str]:
        lines = ["依据：" + "，".join(self.kp_link(kp_id, here) for kp_id in item.kp)]
        if item.basis == "derived" and item.derivation:
            lines += ["", f"推导：{block(item.derivation)}"]
        return lines + [""]

    def followups(self, item: Asked, here: str, depth: int) -> list[str]:
        lines: list[str] = []
        level = "#" * min(3 + depth, 6)
        for follow in item.followups:
            if isinstance(follow, FollowUp):
                lines += [f"{level} {anchor(follow.full_id)}追问：{oneline(follow.question)}", "",
                          block(follow.answer), ""]
                if follow.key_points:
                    lines += [f"- {oneline(point)}" for point in follow.key_points] + [""]
                lines += self.grounding(follow, here)
                lines += self.followups(follow, here, depth + 1)
            elif (target := self.book.resolve(follow)) is not None:
                lines += [f"{level} 追问：{oneline(target.question)}", "",
                          f"见 [{follow.ref}]({self.link(follow.ref, here)})。", ""]
        return lines

    def glossary(self) -> str:
        lines = ["# 术语表", "", "[目录](README.md)", "", "| 中文 | English | 别名 | 说明 |", "|---|---|---|---|"]
        for term in sorted(self.book.content.glossary, key=lambda t: t.en.lower()):
            note = cell(term.note or "")
            if term.kp and term.kp in self.book.kps:
                note = (note + " " if note else "") + f"见 {self.kp_link(term.kp, 'glossary.md')}"
            lines.append(f"| {anchor(term.anchor)}{cell(term.zh)} | {cell(term.en)} | "
                         f"{cell(', '.join(term.aliases))} | {note} |")
        return "\n".join(lines) + "\n"

    def references(self) -> str:
        lines = ["# 参考文献", "", "[目录](README.md)", ""]
        for key, ref in sorted(self.book.content.references.items()):
            authors = ", ".join(ref.authors[:3]) + (" et al." if len(ref.authors) > 3 else "")
            parts = [f"{anchor('ref-' + key)}**[{key}]** {authors} ({ref.year}). *{ref.title}*."]
            if ref.venue:
                parts.append(f"{ref.venue}.")
            if ref.arxiv:
                parts.append(f"[arXiv:{ref.arxiv}](https://arxiv.org/abs/{ref.arxiv})")
            elif ref.url:
                parts.append(f"<{ref.url}>")
            lines += ["- " + " ".join(parts)]
        return "\n".join(lines) + "\n"


def write_handbook(book: Handbook, folder: Path, progress: Progress = no_progress) -> int:
    """Write every file of the handbook into `folder`; returns the number of questions."""
    pages = MarkdownBook(book)
    figures = {kp.figure: path for c in book.chapters for kp in c.knowledge_points if (path := book.figure_path(kp))}
    for name, path in figures.items():
        target = folder / "figures" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for i, chapter in enumerate(book.chapters, start=1):
        (folder / pages.file_of(chapter)).write_text(pages.chapter(chapter), encoding="utf-8")
        progress(0.9 * i / len(book.chapters), f"第 {i}/{len(book.chapters)} 章")
    (folder / "README.md").write_text(pages.index(), encoding="utf-8")
    (folder / "glossary.md").write_text(pages.glossary(), encoding="utf-8")
    (folder / "references.md").write_text(pages.references(), encoding="utf-8")
    (folder / HANDBOOK_MARKER).write_text(f"peprep markdown handbook, content {book.version.digest}\n", encoding="utf-8")
    return sum(len(c.questions) for c in book.chapters)


def export_markdown(content: Content, out: Path, progress: Progress = no_progress) -> ExportResult:
    started = time.perf_counter()
    book = Handbook.of(content)
    with atomic_folder(out) as temporary:
        count = write_handbook(book, temporary, progress)
    final = absolute(out)
    progress(1.0, "完成")
    return ExportResult(final, folder_size(final), time.perf_counter() - started, count, "questions")
