"""The content model (design.md, "Content model"): what a chapter, knowledge point (KP), question,
follow-up (追问), glossary term and reference are. Structure only; meaning is checked by the rules in
`peprep.content.rules`.

Every model rejects unknown keys, so a typo (`verfied_by:`) is an error, not a silently dropped field.
Every model remembers where it was written (`where()` -> "file:line") so errors can point at it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

# Ids are lowercase slugs joined by dots: `rope.long-term-decay`, `rope.q.why-rotate-qk`.
# The first segment is the chapter id; they key FSRS cards, Anki GUIDs, URLs and search rows.
ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CHAPTER_ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")


class Located(BaseModel):
    """A content item that knows the file and lines it came from."""

    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=False)

    _file: Path = PrivateAttr(default=Path("?"))
    _line: int = PrivateAttr(default=1)
    _field_lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _text_lines: dict[str, int] = PrivateAttr(default_factory=dict)

    def locate(self, file: Path, line: int, field_lines: dict[str, int], text_lines: dict[str, int]) -> None:
        self._file, self._line, self._field_lines, self._text_lines = file, line, field_lines, text_lines

    @property
    def file(self) -> Path:
        return self._file

    def line(self, field: str | None = None) -> int:
        return self._field_lines.get(field, self._line) if field else self._line

    def text_line(self, field: str) -> int:
        """Line where the text of a string field begins (below the key for `|` block scalars)."""
        return self._text_lines.get(field, self.line(field))

    def where(self, field: str | None = None) -> str:
        return f"{self._file}:{self.line(field)}"


class Misconception(Located):
    wrong: str = Field(min_length=1, description="the common wrong statement, as people say it")
    why: str = Field(min_length=1, description="why it is wrong, and the right statement")


class KnowledgePoint(Located):
    id: str
    title: str = Field(min_length=1)
    body: str = Field(min_length=1, description="Markdown with $…$ / $$…$$ math")
    formula: str | None = Field(default=None, description="the KP's key formula, LaTeX, display mode")
    code: list[str] = Field(default_factory=list, description="symbols in peprep.encodings")
    figure: str | None = Field(default=None, description="file under content/figures/")
    refs: list[str] = Field(default_factory=list, description="keys into references.yaml")
    verified_by: list[str] = Field(default_factory=list, description="pytest node ids under tests/")
    misconception: Misconception | None = None
    aliases: list[str] = Field(default_factory=list, description="other names search should match")
    replaces: str | None = Field(default=None, description="id of the KP this rewrite replaces")

    @field_validator("code", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    def text(self) -> str:
        """Everything a reader sees of this KP: what an answer citing it may draw on."""
        parts = [self.title, self.body, self.formula or ""]
        if self.misconception:
            parts += [self.misconception.wrong, self.misconception.why]
        parts += self.aliases
        return "\n".join(parts)


class FollowUpRef(Located):
    """A follow-up that reuses an existing question (or follow-up) by id instead of repeating it."""

    ref: str


class Asked(Located):
    """What questions and follow-ups share: something asked, answered, and grounded in KPs."""

    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    kp: list[str] = Field(min_length=1, description="ids of the KPs the answer comes from")
    basis: Literal["direct", "derived"]
    derivation: str | None = Field(
        default=None, description="for basis: derived — how the answer follows from the cited KPs"
    )
    followups: list[Union["FollowUp", FollowUpRef]] = Field(default_factory=list)

    # The full id, set by the loader (follow-ups are written with a local slug).
    _full_id: str = PrivateAttr(default="")

    @property
    def full_id(self) -> str:
        return self._full_id

    @model_validator(mode="after")
    def _derived_needs_derivation(self):
        if self.basis == "derived" and not (self.derivation or "").strip():
            raise ValueError("basis is 'derived' but there is no 'derivation' saying how the answer follows")
        return self

    def inline_followups(self) -> list["FollowUp"]:
        return [f for f in self.followups if isinstance(f, FollowUp)]


class FollowUp(Asked):
    id: str = Field(description="a slug, unique among its siblings; the full id is parent.slug")
    key_points: list[str] = Field(default_factory=list, max_length=5)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG_PATTERN.match(value):
            raise ValueError(f"follow-up id {value!r} must be a slug like 'why-not-v' (a-z, 0-9, -)")
        return value


class Question(Asked):
    id: str
    difficulty: int = Field(ge=1, le=3)
    tags: list[str] = Field(default_factory=list)
    key_points: list[str] = Field(min_length=2, max_length=5)
    replaces: str | None = None


class ChapterMeta(Located):
    id: str
    title: str = Field(min_length=1)
    order: int = Field(ge=1)
    summary: str = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _chapter_id(cls, value: str) -> str:
        if not CHAPTER_ID_PATTERN.match(value):
            raise ValueError(f"chapter id {value!r} must be a lowercase slug like 'rope'")
        return value


class Chapter(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    meta: ChapterMeta
    folder: Path
    knowledge_points: list[KnowledgePoint]
    questions: list[Question]

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def title(self) -> str:
        return self.meta.title


class GlossaryTerm(Located):
    zh: str = Field(min_length=1, description="canonical Chinese term")
    en: str = Field(min_length=1, description="English term")
    aliases: list[str] = Field(default_factory=list, description="abbreviations and other spellings")
    banned: list[str] = Field(default_factory=list, description="renderings the checker rejects")
    note: str | None = None
    kp: str | None = Field(default=None, description="the KP that defines this term")

    def names(self) -> list[str]:
        return [self.zh, self.en, *self.aliases]

    @property
    def anchor(self) -> str:
        """Stable HTML anchor on /glossary, from the English term: `term-positional-encoding`."""
        return "term-" + re.sub(r"[^a-z0-9]+", "-", self.en.lower()).strip("-")


class Reference(Located):
    title: str = Field(min_length=1)
    authors: list[str] = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)
    venue: str | None = None
    arxiv: str | None = Field(default=None, pattern=r"^\d{4}\.\d{4,5}$")
    url: str | None = Field(default=None, pattern=r"^https?://")
    note: str | None = None


class Content(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    root: Path
    chapters: list[Chapter]
    glossary: list[GlossaryTerm]
    references: dict[str, Reference]

    def chapter(self, chapter_id: str) -> Chapter | None:
        return next((c for c in self.chapters if c.id == chapter_id), None)

    def knowledge_points(self) -> list[KnowledgePoint]:
        return [kp for c in self.chapters for kp in c.knowledge_points]

    def questions(self) -> list[Question]:
        return [q for c in self.chapters for q in c.questions]

    def kp_index(self) -> dict[str, KnowledgePoint]:
        return {kp.id: kp for kp in self.knowledge_points()}

    def question_index(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions()}

    def asked_index(self) -> dict[str, Asked]:
        """Every question and inline follow-up, at every depth, by full id."""
        out: dict[str, Asked] = {}
        for q in self.questions():
            for item in walk_asked(q):
                out.setdefault(item.full_id, item)
        return out

    def chapter_of(self, item_id: str) -> Chapter | None:
        return self.chapter(item_id.split(".", 1)[0])


def walk_asked(root: Asked):
    """Yield `root` and every inline follow-up below it, depth first."""
    yield root
    for follow in root.inline_followups():
        yield from walk_asked(follow)


Asked.model_rebuild()
FollowUp.model_rebuild()
Question.model_rebuild()
