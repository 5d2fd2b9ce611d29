"""What the app knows, built once at start: the content, its search index, and the cross-links
between them (which questions cite a KP, where a `ref:` follow-up points, counts per chapter).

Content is read-only while the server runs, so everything here is computed once and shared by all
requests without locks. The search index is the exception: it is built after start-up (in the warm-up
thread, or by the first search, whichever comes first) so the first page is served sooner.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from peprep import rendering
from peprep.content.schema import Asked, Chapter, Content, FollowUpRef, KnowledgePoint, Question, walk_asked
from peprep.search import SearchIndex
from peprep.web.source_listing import SourceFinder, package_dir

DIFFICULTY_LABELS = {1: "基础", 2: "进阶", 3: "研究"}


@dataclass(frozen=True)
class Citation:
    """An asked item (question or follow-up) that cites a KP, with where to read it."""

    item: Asked
    question: Question
    url: str


@dataclass(frozen=True)
class ChapterCounts:
    kps: int
    questions: int
    followups: int


@dataclass
class Site:
    content: Content
    sources: SourceFinder
    chapters: dict[str, Chapter] = field(default_factory=dict)
    kps: dict[str, KnowledgePoint] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    asked: dict[str, tuple[Asked, Question]] = field(default_factory=dict)
    cited_by: dict[str, list[Citation]] = field(default_factory=dict)
    counts: dict[str, ChapterCounts] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    _index: SearchIndex | None = None
    _index_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, content: Content) -> "Site":
        site = cls(content=content, sources=SourceFinder(package_dir("peprep"), content.root.parent))
        site.chapters = {c.id: c for c in content.chapters}
        site.kps = content.kp_index()
        site.questions = content.question_index()
        for question in content.questions():
            for item in walk_asked(question):
                site.asked.setdefault(item.full_id, (item, question))
                for kp_id in item.kp:
                    site.cited_by.setdefault(kp_id, []).append(Citation(item, question, site.url_of(item.full_id)))
        for chapter in content.chapters:
            followups = sum(_count_followups(q) for q in chapter.questions)
            site.counts[chapter.id] = ChapterCounts(len(chapter.knowledge_points), len(chapter.questions), followups)
        site.tags = sorted({tag for q in content.questions() for tag in q.tags})
        return site

    def url_of(self, full_id: str) -> str:
        """Questions have a page; a follow-up is an anchor on its question's page."""
        if full_id in self.questions:
            return f"/questions/{full_id}"
        if full_id in self.asked:
            return f"/questions/{self.asked[full_id][1].id}#{full_id}"
        return f"/questions/{full_id}"

    def resolve_ref(self, ref: FollowUpRef) -> tuple[Asked, str] | None:
        """A `ref:` follow-up's target and its URL, or None when it points nowhere."""
        found = self.asked.get(ref.ref)
        return (found[0], self.url_of(ref.ref)) if found else None

    @property
    def index_ready(self) -> bool:
        return self._index is not None

    def search_index(self) -> SearchIndex:
        """The search index, built on first use (once, even when two threads ask at the same time)."""
        with self._index_lock:
            if self._index is None:
                self._index = SearchIndex.build(self.content)
            return self._index

    def warm(self) -> None:
        """Render every piece of content once, so no reader waits for a cold cache.

        Pages are fast once their Markdown, highlighted listings and parsed sources are cached;
        the first chapter view would otherwise pay for all of them (~100 ms). Run in a background
        thread after start-up, so it never delays the server being ready.
        """
        self.search_index()
        for kp in self.kps.values():
            for text in (kp.body, kp.misconception.why if kp.misconception else ""):
                rendering.render_markdown(text)
            rendering.render_inline(kp.title)
            for listing in [*map(self.sources.symbol, kp.code), *map(self.sources.test, kp.verified_by)]:
                if listing is not None:
                    rendering.highlight_code(listing.source, "python")
        for item, _ in self.asked.values():
            rendering.render_inline(item.question)
            rendering.render_markdown(item.answer)
            rendering.render_markdown(item.derivation or "")
            for point in getattr(item, "key_points", []):
                rendering.render_inline(point)

    @staticmethod
    def followups_under(item: Asked) -> int:
        return _count_followups(item)

    def total(self, what: str) -> int:
        return sum(getattr(c, what) for c in self.counts.values())


def _count_followups(item: Asked) -> int:
    """Every 追问 under an item, nested ones and `ref:` ones included."""
    return sum(1 + (_count_followups(f) if isinstance(f, Asked) else 0) for f in item.followups)
