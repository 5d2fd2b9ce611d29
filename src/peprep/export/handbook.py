"""What the exports share about the content: numbering, labels, lookups, figures.

The Markdown handbook, the Anki deck and the print view (PDF) number and label things the same way,
so "Q3.2" or "★★☆ 进阶" means the same item in every format.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from peprep.content.schema import Asked, Chapter, Content, FollowUpRef, KnowledgePoint, Question, walk_asked
from peprep.export.output import ExportError
from peprep.export.version import ContentVersion, content_version

# The same words as the web app's badges (peprep.web.site.DIFFICULTY_LABELS; a test keeps them equal).
DIFFICULTY_LABELS = {1: "基础", 2: "进阶", 3: "研究"}
TITLE = "位置编码面试通关"


def difficulty_text(level: int) -> str:
    return "★" * level + "☆" * (3 - level) + " " + DIFFICULTY_LABELS[level]


def hashed_name(path: Path) -> str:
    """`fig-<sha256 prefix>.png`: a changed figure gets a new name, so no cache or Anki keeps the old one."""
    return f"fig-{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}{path.suffix.lower()}"


@dataclass
class Handbook:
    """The content (or some of its chapters) with the numbers and lookups every export needs."""

    content: Content
    version: ContentVersion
    chapters: list[Chapter]
    number: dict[str, str] = field(default_factory=dict)  # KP id -> "1.2", question id -> "Q1.2"
    kps: dict[str, KnowledgePoint] = field(default_factory=dict)
    asked: dict[str, tuple[Asked, Question]] = field(default_factory=dict)  # full id -> (item, its question)

    @classmethod
    def of(cls, content: Content, chapter_ids: list[str] | None = None) -> "Handbook":
        chapters = select_chapters(content, chapter_ids)
        book = cls(content=content, version=content_version(content.root), chapters=chapters, kps=content.kp_index())
        for position, chapter in enumerate(content.chapters, start=1):
            for i, kp in enumerate(chapter.knowledge_points, start=1):
                book.number[kp.id] = f"{position}.{i}"
            for i, question in enumerate(chapter.questions, start=1):
                book.number[question.id] = f"Q{position}.{i}"
                for item in walk_asked(question):
                    book.asked.setdefault(item.full_id, (item, question))
        return book

    def chapter_number(self, chapter: Chapter) -> int:
        return next(i for i, c in enumerate(self.content.chapters, start=1) if c.id == chapter.id)

    def resolve(self, ref: FollowUpRef) -> Asked | None:
        found = self.asked.get(ref.ref)
        return found[0] if found else None

    def question_of(self, full_id: str) -> Question | None:
        found = self.asked.get(full_id)
        return found[1] if found else None

    def figure_path(self, kp: KnowledgePoint) -> Path | None:
        if not kp.figure:
            return None
        folder = (self.content.root / "figures").resolve()
        path = (folder / kp.figure).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise ExportError(f"figure {kp.figure} of {kp.id} is not under {self.content.root / 'figures'}",
                              "regenerate the figures (python experiments/figures.py) and run `peprep check`")
        return path


def select_chapters(content: Content, chapter_ids: list[str] | None) -> list[Chapter]:
    if not chapter_ids:
        return list(content.chapters)
    known = [c.id for c in content.chapters]
    unknown = [c for c in chapter_ids if c not in known]
    if unknown:
        raise ExportError(f"unknown chapter(s): {', '.join(unknown)}",
                          f"use one of: {', '.join(known)} (the `id` in chapters/*/chapter.yaml)")
    return [c for c in content.chapters if c.id in chapter_ids]
