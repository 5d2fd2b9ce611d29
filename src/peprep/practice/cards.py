"""What a card is: every question and every inline follow-up (追问) of the bank, keyed by its full id.

Cards follow content ids (content/README.md, "Ids"): `rope.q.why-rotate-qk` for a question,
`rope.q.why-rotate-qk.why-not-v` for its follow-up. Editing a question's text keeps its id and so its
history; a question removed from the bank leaves its cards and review log in the store untouched
(they are simply no longer offered). py-fsrs wants an integer `card_id`; `fsrs_card_id` derives it
from the full id, so it is the same on every machine and in every export.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from peprep.content.schema import Asked, Content, FollowUp, FollowUpRef, Question


@dataclass(frozen=True)
class PracticeItem:
    """One reviewable thing: a question or a follow-up, with what grading it needs."""

    id: str  # full id; the card id
    question_id: str  # the root question this item belongs to
    chapter: str
    prompt: str
    answer: str
    key_points: tuple[str, ...]
    kp: tuple[str, ...]
    difficulty: int  # follow-ups share their root question's difficulty
    tags: tuple[str, ...]
    depth: int  # 0 for a question, 1 for its 追问, 2 for a 追问 of that …
    parent: str | None  # the item a follow-up drills into
    followups: tuple[str, ...]  # full ids the interviewer may drill into next (inline and `ref:`)

    @property
    def is_followup(self) -> bool:
        return self.depth > 0


def fsrs_card_id(item_id: str) -> int:
    """A stable positive integer for py-fsrs from the full id (48 bits: exact in JSON and JavaScript)."""
    return int.from_bytes(hashlib.sha256(item_id.encode("utf-8")).digest()[:6], "big")


class Bank:
    """The question bank as practice items, in content order (chapter order, then file order, depth first)."""

    def __init__(self, items: Iterable[PracticeItem], chapter_titles: dict[str, str] | None = None,
                 kp_titles: dict[str, str] | None = None):
        self.items: dict[str, PracticeItem] = {}
        for item in items:
            self.items.setdefault(item.id, item)
        self.chapter_titles = chapter_titles or {}  # chapter id -> title, in chapter order
        self.kp_titles = kp_titles or {}  # knowledge point id -> title

    @classmethod
    def from_content(cls, content: Content) -> "Bank":
        items: list[PracticeItem] = []
        for chapter in content.chapters:
            for question in chapter.questions:
                items.extend(_walk(question, question, chapter.id, depth=0, parent=None))
        return cls(items, {c.id: c.title for c in content.chapters},
                   {kp.id: kp.title for kp in content.knowledge_points()})

    def __contains__(self, item_id: str) -> bool:
        return item_id in self.items

    def __getitem__(self, item_id: str) -> PracticeItem:
        return self.items[item_id]

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str) -> PracticeItem | None:
        return self.items.get(item_id)

    def roots(self) -> list[PracticeItem]:
        return [item for item in self.items.values() if not item.is_followup]

    def chain(self, item_id: str) -> list[PracticeItem]:
        """The item and the items it drills down from, root first (the context a follow-up is asked in)."""
        out: list[PracticeItem] = []
        item = self.items.get(item_id)
        while item is not None:
            out.append(item)
            item = self.items.get(item.parent) if item.parent else None
        return out[::-1]

    def select(
        self,
        chapters: Iterable[str] = (),
        tags: Iterable[str] = (),
        difficulties: Iterable[int] = (),
        followups: bool = True,
    ) -> list[PracticeItem]:
        """Items passing every given filter (an empty filter passes everything), in bank order."""
        chapters, tags, difficulties = set(chapters), set(tags), set(difficulties)
        return [
            item
            for item in self.items.values()
            if (not chapters or item.chapter in chapters)
            and (not tags or tags & set(item.tags))
            and (not difficulties or item.difficulty in difficulties)
            and (followups or not item.is_followup)
        ]


def _walk(node: Asked, root: Question, chapter: str, depth: int, parent: str | None) -> Iterator[PracticeItem]:
    key_points = node.key_points if isinstance(node, (Question, FollowUp)) else []
    nexts = tuple(f.full_id if isinstance(f, FollowUp) else f.ref for f in node.followups
                  if isinstance(f, (FollowUp, FollowUpRef)))
    yield PracticeItem(
        id=node.full_id,
        question_id=root.id,
        chapter=chapter,
        prompt=node.question,
        answer=node.answer,
        key_points=tuple(key_points),
        kp=tuple(node.kp),
        difficulty=root.difficulty,
        tags=tuple(root.tags),
        depth=depth,
        parent=parent,
        followups=nexts,
    )
    for follow in node.inline_followups():
        yield from _walk(follow, root, chapter, depth + 1, node.full_id)
