"""A review session: which card comes next, and what rating it gets.

Order: cards that are due (most overdue first), then new cards in bank order up to a daily limit, then
— only when nothing else is left — learning cards due within the next 20 minutes (as Anki's "learn
ahead"), so an Again comes back in the same sitting. A new follow-up (追问) waits until its parent has
been reviewed once: the interviewer asks the question before the follow-up.

The queue is recomputed from the store for every card, so two tabs or terminals reviewing at once see
each other's ratings and nothing is held in memory that a crash could lose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from typing import Literal

import fsrs

from peprep.practice.cards import Bank, PracticeItem
from peprep.practice.scheduler import Clock, Rating, Scheduler, day_start, is_new, utc_now
from peprep.practice.store import ReviewRecord, Store

DEFAULT_NEW_PER_DAY = 20
LEARN_AHEAD = timedelta(minutes=20)


@dataclass(frozen=True)
class ReviewFilter:
    """Which cards a session draws from; an empty field means "all"."""

    chapters: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    difficulties: tuple[int, ...] = ()
    followups: bool = True


@dataclass(frozen=True)
class Due:
    """The next card to show and why it is next."""

    item: PracticeItem
    card: fsrs.Card | None
    kind: Literal["due", "new", "ahead"]


@dataclass(frozen=True)
class QueueCounts:
    due: int
    new: int  # new cards that may still be shown today
    ahead: int


@dataclass
class ReviewSession:
    bank: Bank
    store: Store
    scheduler: Scheduler
    clock: Clock = utc_now
    filters: ReviewFilter = field(default_factory=ReviewFilter)
    new_per_day: int = DEFAULT_NEW_PER_DAY
    tz: tzinfo | None = None

    def _pools(self) -> tuple[list[Due], list[Due], list[Due]]:
        now = self.clock()
        cards = self.store.cards()
        items = self.bank.select(self.filters.chapters, self.filters.tags, self.filters.difficulties,
                                 self.filters.followups)
        due, new, ahead = [], [], []
        for item in items:
            card = cards.get(item.id)
            if is_new(card):
                if item.parent is None or not is_new(cards.get(item.parent)):
                    new.append(Due(item, card, "new"))
            elif card.due <= now:
                due.append(Due(item, card, "due"))
            elif card.due <= now + LEARN_AHEAD and card.state != fsrs.State.Review:
                ahead.append(Due(item, card, "ahead"))
        due.sort(key=lambda d: d.card.due)
        ahead.sort(key=lambda d: d.card.due)
        allowed = max(self.new_per_day - self.store.first_reviews_since(day_start(now, self.tz)), 0)
        return due, new[:allowed], ahead

    def peek(self) -> tuple[Due | None, QueueCounts]:
        """The next card and the queue's counts, from one read of the store."""
        due, new, ahead = self._pools()
        return (due or new or ahead or [None])[0], QueueCounts(len(due), len(new), len(ahead))

    def next(self) -> Due | None:
        return self.peek()[0]

    def counts(self) -> QueueCounts:
        return self.peek()[1]

    def preview(self, item_id: str) -> dict[Rating, timedelta]:
        """The interval each rating would give this card now (the labels of the rating buttons)."""
        now = self.clock()
        card = self.store.card(item_id) or self.scheduler.new_card(item_id, now)
        return self.scheduler.preview(card, now)

    def rate(self, item_id: str, rating: Rating | int, duration_ms: int | None = None,
             uid: str | None = None) -> ReviewRecord:
        if item_id not in self.bank:
            raise KeyError(f"no question or follow-up with id {item_id!r}")
        return self.store.record_review(item_id, rating, scheduler=self.scheduler, now=self.clock(),
                                        duration_ms=duration_ms, uid=uid)

