"""The mock interviewer: a timed session that walks the 追问 chain the way a real interviewer does.

One turn: the interviewer asks; the candidate answers (typed, or "answered aloud"); the model answer
is revealed and the candidate ticks the key points (`key_points`) they covered. The share ticked is the
turn's score, and it decides the next question (`next_move`):

- **deeper** (score ≥ 2/3): the first follow-up of this item not yet asked — inline or `ref:`;
- **simpler** (score < 1/3): an easier question not yet asked, sharing a knowledge point if one exists
  (else from the same chapter): easier than the question for a question, no harder than its root
  question for a follow-up;
- **next** otherwise, or when there is nowhere deeper or simpler to go: the next question of the queue
  (the chosen chapters' questions, easiest first, shuffled within a difficulty by the session's seed).

The session ends when time is up (checked after each graded answer: a question asked in time may be
answered) or the bank is exhausted. Each graded turn is also a review (`MockRunner`): the score maps
to Again / Hard / Good, never Easy — one good answer under pressure is recall, not ease.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from peprep.practice.cards import Bank, PracticeItem
from peprep.practice.scheduler import Clock, Rating, Scheduler, as_utc, utc_now
from peprep.practice.store import Store

DURATIONS = (15, 30, 45)
GOOD_SCORE = 2 / 3
POOR_SCORE = 1 / 3
FALLBACK_KEY_POINT = "答出参考答案的要点"  # for follow-ups written without their own key points

Move = Literal["first", "deeper", "simpler", "next"]


class MockError(Exception):
    """A request the session cannot take (stale turn, unknown chapter, bad duration)."""


@dataclass
class Turn:
    item_id: str
    move: Move  # how the interviewer got here
    asked_at: datetime
    answered_at: datetime | None = None
    answer: str = ""
    aloud: bool = False
    ticked: list[int] | None = None  # indices into the item's key points
    score: float | None = None

    @property
    def seconds(self) -> float | None:
        return (self.answered_at - self.asked_at).total_seconds() if self.answered_at else None


@dataclass
class MockSession:
    id: str
    started_at: datetime
    minutes: int
    chapters: list[str]
    queue: list[str]  # questions not yet asked, in the order the interviewer will take them
    turns: list[Turn] = field(default_factory=list)
    ended_at: datetime | None = None
    end_reason: Literal["time", "exhausted", "stopped"] | None = None

    @property
    def deadline(self) -> datetime:
        return self.started_at + timedelta(minutes=self.minutes)

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    @property
    def current(self) -> Turn | None:
        """The turn waiting for an answer or a grade, if the session is still on."""
        if self.finished or not self.turns or self.turns[-1].score is not None:
            return None
        return self.turns[-1]

    def asked(self) -> set[str]:
        return {t.item_id for t in self.turns}

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("started_at", "ended_at"):
            data[key] = _iso(data[key])
        for turn in data["turns"]:
            turn["asked_at"], turn["answered_at"] = _iso(turn["asked_at"]), _iso(turn["answered_at"])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "MockSession":
        turns = [Turn(**{**t, "asked_at": _time(t["asked_at"]), "answered_at": _time(t["answered_at"])})
                 for t in data["turns"]]
        return cls(**{**data, "turns": turns, "started_at": _time(data["started_at"]),
                      "ended_at": _time(data["ended_at"])})


def key_points(item: PracticeItem) -> tuple[str, ...]:
    return item.key_points or (FALLBACK_KEY_POINT,)


def rating_for_score(score: float) -> Rating:
    if score >= GOOD_SCORE:
        return Rating.Good
    return Rating.Hard if score >= POOR_SCORE else Rating.Again


def next_move(bank: Bank, session: MockSession, item: PracticeItem, score: float) -> tuple[Move, str] | None:
    """Where the interviewer goes after `item` was answered with `score`; None when nothing is left."""
    asked = session.asked()
    if score >= GOOD_SCORE:
        deeper = [f for f in item.followups if f in bank and f not in asked]
        if deeper:
            return "deeper", deeper[0]
    if score < POOR_SCORE and (simpler := simpler_neighbour(bank, item, asked, session.chapters)):
        return "simpler", simpler
    upcoming = [q for q in session.queue if q not in asked]
    return ("next", upcoming[0]) if upcoming else None


def simpler_neighbour(bank: Bank, item: PracticeItem, asked: set[str], chapters: Iterable[str]) -> str | None:
    """An easier unasked question near `item`: most shared knowledge points, then easiest, then bank order."""
    ceiling = item.difficulty if item.is_followup else item.difficulty - 1
    kps, chapters = set(item.kp), set(chapters)
    ranked = []
    for order, other in enumerate(bank.roots()):
        if other.id in asked or other.difficulty > ceiling or (chapters and other.chapter not in chapters):
            continue
        shared = len(kps & set(other.kp))
        if shared or other.chapter == item.chapter:
            ranked.append((-shared, other.difficulty, order, other.id))
    return min(ranked)[-1] if ranked else None


class Interviewer:
    """The chain logic over a bank, with an injected clock. Pure: saving is `MockRunner`'s job."""

    def __init__(self, bank: Bank, clock: Clock = utc_now):
        self.bank, self.clock = bank, clock

    def start(self, chapters: Iterable[str] = (), minutes: int = 15, seed: int | None = None) -> MockSession:
        if minutes not in DURATIONS:
            raise MockError(f"a mock interview lasts {' / '.join(map(str, DURATIONS))} minutes, not {minutes}")
        chapters = list(dict.fromkeys(chapters))
        unknown = [c for c in chapters if c not in self.bank.chapter_titles]
        if unknown:
            raise MockError(f"unknown chapter(s): {', '.join(unknown)}; chapters: {', '.join(self.bank.chapter_titles)}")
        roots = [q for q in self.bank.roots() if not chapters or q.chapter in chapters]
        if not roots:
            raise MockError("the chosen chapters have no questions")
        random.Random(seed).shuffle(roots)
        queue = [q.id for q in sorted(roots, key=lambda q: q.difficulty)]  # stable: shuffled within a difficulty
        now = as_utc(self.clock())
        session = MockSession(uuid.uuid4().hex[:12], now, minutes, chapters, queue[1:])
        session.turns.append(Turn(queue[0], "first", now))
        return session

    def remaining(self, session: MockSession) -> timedelta:
        return max(session.deadline - self.clock(), timedelta(0))

    def answer(self, session: MockSession, turn_index: int, text: str = "", aloud: bool = False) -> Turn:
        turn = self._turn(session, turn_index)
        if turn.answered_at is not None:
            raise MockError("this question has already been answered")
        turn.answered_at, turn.answer, turn.aloud = self.clock(), text.strip(), aloud or not text.strip()
        return turn

    def grade(self, session: MockSession, turn_index: int, ticked: Iterable[int]) -> Turn | None:
        """Score the answered turn from the ticked key points, then ask the next question (returned), or
        end the session (None)."""
        turn = self._turn(session, turn_index)
        if turn.answered_at is None:
            raise MockError("answer the question before ticking its key points")
        item = self.bank[turn.item_id]
        total = len(key_points(item))
        ticks = sorted(set(ticked))
        if any(not 0 <= i < total for i in ticks):
            raise MockError(f"key point numbers run from 1 to {total}")
        turn.ticked, turn.score = ticks, len(ticks) / total
        now = self.clock()
        if now >= session.deadline:
            return self._end(session, "time")
        move = next_move(self.bank, session, item, turn.score)
        if move is None:
            return self._end(session, "exhausted")
        kind, item_id = move
        session.queue = [q for q in session.queue if q != item_id]
        session.turns.append(Turn(item_id, kind, now))
        return session.turns[-1]

    def stop(self, session: MockSession) -> None:
        if not session.finished:
            self._end(session, "stopped")

    def _turn(self, session: MockSession, turn_index: int) -> Turn:
        current = session.current
        if current is None or turn_index != len(session.turns) - 1:
            raise MockError("this question is no longer open (answered in another tab, or the session ended)")
        return current

    def _end(self, session: MockSession, reason: str) -> None:
        session.ended_at, session.end_reason = self.clock(), reason  # type: ignore[assignment]
        # An unanswered question at the end is dropped from the record: it was never answered.
        if session.turns and session.turns[-1].score is None:
            session.turns.pop()
        return None


class MockRunner:
    """The interviewer with persistence: every step is saved, every graded turn is a review."""

    def __init__(self, bank: Bank, store: Store, scheduler: Scheduler, clock: Clock = utc_now):
        self.interviewer = Interviewer(bank, clock)
        self.bank, self.store, self.scheduler, self.clock = bank, store, scheduler, clock

    def start(self, chapters: Iterable[str] = (), minutes: int = 15, seed: int | None = None) -> MockSession:
        session = self.interviewer.start(chapters, minutes, seed)
        self.save(session)
        return session

    def load(self, session_id: str) -> MockSession | None:
        data = self.store.load_mock(session_id)
        return MockSession.from_dict(data) if data else None

    def save(self, session: MockSession) -> None:
        self.store.save_mock(session.id, session.started_at, session.finished, session.to_dict(), self.clock())

    def answer(self, session: MockSession, turn_index: int, text: str = "", aloud: bool = False) -> Turn:
        turn = self.interviewer.answer(session, turn_index, text, aloud)
        self.save(session)
        return turn

    def grade(self, session: MockSession, turn_index: int, ticked: Iterable[int]) -> Turn | None:
        graded = session.current
        following = self.interviewer.grade(session, turn_index, ticked)
        assert graded is not None and graded.score is not None and graded.seconds is not None
        self.store.record_review(graded.item_id, rating_for_score(graded.score), scheduler=self.scheduler,
                                 now=self.clock(), duration_ms=round(graded.seconds * 1000), source="mock",
                                 score=graded.score, uid=f"mock:{session.id}:{turn_index}", session_id=session.id)
        self.save(session)
        return following

    def stop(self, session: MockSession) -> None:
        self.interviewer.stop(session)
        self.save(session)


# -- scorecard ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoredKeyPoint:
    text: str
    ticked: bool
    mentioned: bool  # the typed answer contains it literally (case and spacing ignored)


@dataclass(frozen=True)
class ScoreRow:
    index: int
    item: PracticeItem
    move: Move
    answer: str
    aloud: bool
    key_points: list[ScoredKeyPoint]
    seconds: float
    score: float


@dataclass(frozen=True)
class WeakPoint:
    kp: str
    title: str
    score: float  # mean score of the answers that needed it
    answers: int


@dataclass(frozen=True)
class Scorecard:
    session: MockSession
    rows: list[ScoreRow]
    weakest: list[WeakPoint]

    @property
    def mean_score(self) -> float | None:
        return sum(r.score for r in self.rows) / len(self.rows) if self.rows else None

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.rows)


def mention_pattern(key_point: str) -> re.Pattern[str]:
    """The key point as a case-insensitive pattern in which spacing is optional (`需要 PE` ~ `需要pe`)."""
    parts = [re.escape(p) for p in key_point.split()]
    return re.compile(r"\s*".join(parts), re.IGNORECASE)


def mention_spans(answer: str, points: Iterable[str]) -> list[tuple[int, int]]:
    """Merged (start, end) spans of `answer` that literally mention any key point: what to highlight."""
    spans = sorted(m.span() for p in points if p.strip() for m in mention_pattern(p).finditer(answer))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def scorecard(bank: Bank, session: MockSession, weakest: int = 5) -> Scorecard:
    rows, per_kp = [], {}
    for index, turn in enumerate(session.turns):
        item = bank.get(turn.item_id)
        if item is None or turn.score is None:
            continue  # graded turns only; an item removed from the bank since is left out
        ticked = set(turn.ticked or [])
        points = [ScoredKeyPoint(text, i in ticked, bool(turn.answer and mention_pattern(text).search(turn.answer)))
                  for i, text in enumerate(key_points(item))]
        rows.append(ScoreRow(index, item, turn.move, turn.answer, turn.aloud, points, turn.seconds or 0.0, turn.score))
        for kp in item.kp:
            per_kp.setdefault(kp, []).append(turn.score)
    weak = sorted((sum(s) / len(s), -len(s), kp) for kp, s in per_kp.items() if sum(s) / len(s) < 1)
    return Scorecard(session, rows, [WeakPoint(kp, bank.kp_titles.get(kp, kp), score, -n)
                                     for score, n, kp in weak[:weakest]])


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
