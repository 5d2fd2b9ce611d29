"""When a card comes back: the FSRS scheduler of py-fsrs (`fsrs`), behind a small face.

- Datetimes are timezone-aware UTC everywhere (py-fsrs refuses anything else); the clock is injected
  (`Clock`), so tests fix time and nothing here calls `datetime.now` behind the caller's back.
- Fuzzing (py-fsrs spreads intervals of 3 days and more by a few percent, so cards learned together do
  not all fall due together) is on for the user and off in tests. As in Anki, the rating buttons show
  the interval before fuzz (`preview`).
- A new card is an `fsrs.Card` in the Learning state with no stability; its `card_id` comes from the
  content id (`cards.fsrs_card_id`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from enum import IntEnum

import fsrs

from peprep.practice.cards import fsrs_card_id

Clock = Callable[[], datetime]

# A card whose stability reaches this many days counts as mastered (Anki's "mature" threshold).
MASTERED_STABILITY_DAYS = 21.0


class Rating(IntEnum):
    """The four answers to "how well did you recall it?", keys 1–4 (same values as `fsrs.Rating`)."""

    Again = 1
    Hard = 2
    Good = 3
    Easy = 4

    @property
    def label(self) -> str:
        return RATING_LABELS[self]


RATING_LABELS = {Rating.Again: "重来 Again", Rating.Hard: "困难 Hard", Rating.Good: "良好 Good", Rating.Easy: "简单 Easy"}


def utc_now() -> datetime:
    """The real clock (the default `Clock`)."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is a programming error, not a guess."""
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return moment.astimezone(timezone.utc)


class Scheduler:
    """FSRS with this project's conventions. `review` never mutates the card it is given."""

    def __init__(self, *, enable_fuzzing: bool = True, desired_retention: float = 0.9):
        self._fsrs = fsrs.Scheduler(desired_retention=desired_retention, enable_fuzzing=enable_fuzzing)
        self._exact = fsrs.Scheduler(desired_retention=desired_retention, enable_fuzzing=False)

    @property
    def enable_fuzzing(self) -> bool:
        return self._fsrs.enable_fuzzing

    @staticmethod
    def new_card(item_id: str, now: datetime) -> fsrs.Card:
        return fsrs.Card(card_id=fsrs_card_id(item_id), due=as_utc(now))

    def review(self, card: fsrs.Card, rating: Rating, now: datetime,
               duration_ms: int | None = None) -> tuple[fsrs.Card, fsrs.ReviewLog]:
        return self._fsrs.review_card(card, fsrs.Rating(int(rating)), as_utc(now), duration_ms)

    def preview(self, card: fsrs.Card, now: datetime) -> dict[Rating, timedelta]:
        """For each rating, how long until the card is due again (before fuzz): the button labels."""
        now = as_utc(now)
        return {r: self._exact.review_card(card, fsrs.Rating(int(r)), now)[0].due - now for r in Rating}

    def retrievability(self, card: fsrs.Card, now: datetime) -> float:
        """Probability of recalling the card now (0 for a card never reviewed)."""
        return self._fsrs.get_card_retrievability(card, as_utc(now))


def day_start(now: datetime, tz: tzinfo | None = None) -> datetime:
    """Midnight of `now`'s day in `tz` (the machine's zone when None), as UTC: where "today" begins."""
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def is_new(card: fsrs.Card | None) -> bool:
    return card is None or card.last_review is None


def is_mastered(card: fsrs.Card | None) -> bool:
    return (card is not None and card.state == fsrs.State.Review
            and (card.stability or 0.0) >= MASTERED_STABILITY_DAYS)


def format_interval(delta: timedelta) -> str:
    """A button label for an interval: `1分钟`, `10分钟`, `3小时`, `4天`, `2.5月`, `1.2年`."""
    seconds = max(delta.total_seconds(), 0.0)
    minutes, hours, days = seconds / 60, seconds / 3600, seconds / 86400
    if minutes < 60:
        return f"{max(round(minutes), 1)}分钟"
    if hours < 24:
        return f"{round(hours)}小时"
    if days < 30:
        return f"{round(days)}天"
    if days < 365:
        return f"{days / 30:.1f}月".replace(".0月", "月")
    return f"{days / 365:.1f}年".replace(".0年", "年")
