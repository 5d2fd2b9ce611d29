"""Where the candidate stands: per-chapter counts, retention over time, the forecast, the weakest KPs.

- A card is **new** until its first review, **mastered** once FSRS puts it in the Review state with a
  stability of 21 days or more (Anki's "mature"), else **learning**; **due** when its due time has come.
  Only cards of the current bank are counted: the log of a removed question stays in the store.
- **Retention** per day (the last 90 days) is the share of reviews of cards already in the Review state that were not
  rated Again (a first sighting or a relearning step says nothing about memory over days).
- The **forecast** counts cards falling due on each of the next days; overdue ones count for today.
- **Weakest KPs**: every review of a card citing a knowledge point is evidence about it — a mock answer
  by its share of key points, a rating by `RATING_EVIDENCE`. A KP's score is the mean of its
  `RECENT_EVIDENCE` most recent pieces; the lowest are the weakest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, tzinfo

import fsrs

from peprep.practice.cards import Bank
from peprep.practice.scheduler import Rating, day_start, is_mastered, is_new
from peprep.practice.store import ReviewRecord, Store

RATING_EVIDENCE = {Rating.Again: 0.0, Rating.Hard: 0.4, Rating.Good: 0.8, Rating.Easy: 1.0}
RECENT_EVIDENCE = 5


@dataclass(frozen=True)
class ChapterProgress:
    id: str
    title: str
    total: int
    new: int
    learning: int
    mastered: int
    due: int


@dataclass(frozen=True)
class RetentionDay:
    day: date
    reviews: int
    recalled: int

    @property
    def rate(self) -> float:
        return self.recalled / self.reviews


@dataclass(frozen=True)
class WeakKP:
    id: str
    title: str
    score: float
    evidence: int


@dataclass(frozen=True)
class ProgressReport:
    chapters: list[ChapterProgress]
    retention: list[RetentionDay]
    forecast: list[tuple[date, int]]
    weakest: list[WeakKP]
    reviews: int

    @property
    def totals(self) -> ChapterProgress:
        fields = ("total", "new", "learning", "mastered", "due")
        sums = {f: sum(getattr(c, f) for c in self.chapters) for f in fields}
        return ChapterProgress("total", "合计", **sums)

    def to_json(self) -> dict:
        return {
            "chapters": [asdict(c) for c in self.chapters],
            "totals": {k: v for k, v in asdict(self.totals).items() if k not in ("id", "title")},
            "retention": [{"day": r.day.isoformat(), "reviews": r.reviews, "recalled": r.recalled,
                           "rate": round(r.rate, 4)} for r in self.retention],
            "forecast": [{"day": d.isoformat(), "due": n} for d, n in self.forecast],
            "weakest": [{**asdict(w), "score": round(w.score, 4)} for w in self.weakest],
            "reviews": self.reviews,
        }


def chapter_progress(bank: Bank, cards: dict[str, fsrs.Card], now: datetime) -> list[ChapterProgress]:
    def blank() -> dict[str, int]:
        return dict(total=0, new=0, learning=0, mastered=0, due=0)

    counts = {c: blank() for c in bank.chapter_titles}
    for item in bank.items.values():
        card, row = cards.get(item.id), counts.setdefault(item.chapter, blank())
        row["total"] += 1
        if is_new(card):
            row["new"] += 1
            continue
        row["mastered" if is_mastered(card) else "learning"] += 1
        row["due"] += card.due <= now
    return [ChapterProgress(c, bank.chapter_titles.get(c, c), **row) for c, row in counts.items()]


def retention_by_day(reviews: list[ReviewRecord], tz: tzinfo | None = None) -> list[RetentionDay]:
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for review in reviews:
        if review.state_before == fsrs.State.Review:
            bucket = days[review.reviewed_at.astimezone(tz).date()]
            bucket[0] += 1
            bucket[1] += review.rating != Rating.Again
    return [RetentionDay(d, n, ok) for d, (n, ok) in sorted(days.items())]


def forecast(bank: Bank, cards: dict[str, fsrs.Card], now: datetime, days: int = 14,
             tz: tzinfo | None = None) -> list[tuple[date, int]]:
    today = now.astimezone(tz).date()
    counts = [0] * days
    for item_id in bank.items:
        card = cards.get(item_id)
        if is_new(card):
            continue
        offset = max((card.due.astimezone(tz).date() - today).days, 0)
        if offset < days:
            counts[offset] += 1
    return [(today + timedelta(days=i), n) for i, n in enumerate(counts)]


def weakest_kps(bank: Bank, reviews: list[ReviewRecord], limit: int = 5) -> list[WeakKP]:
    evidence: dict[str, list[float]] = defaultdict(list)
    for review in reversed(reviews):  # newest first
        item = bank.get(review.card_id)
        if item is None:
            continue
        value = review.score if review.score is not None else RATING_EVIDENCE[review.rating]
        for kp in item.kp:
            if len(evidence[kp]) < RECENT_EVIDENCE:
                evidence[kp].append(value)
    ranked = sorted((sum(v) / len(v), -len(v), kp) for kp, v in evidence.items())
    return [WeakKP(kp, bank.kp_titles.get(kp, kp), score, -n) for score, n, kp in ranked[:limit] if score < 1]


def progress_report(bank: Bank, store: Store, now: datetime, tz: tzinfo | None = None, forecast_days: int = 14,
                    retention_days: int = 90) -> ProgressReport:
    """The report, reading only what it needs from the store (the log can grow to tens of thousands)."""
    cards = store.cards()
    since = day_start(now, tz) - timedelta(days=retention_days - 1)
    return ProgressReport(
        chapters=chapter_progress(bank, cards, now),
        retention=retention_by_day(store.reviews(since=since, state_before=fsrs.State.Review), tz),
        forecast=forecast(bank, cards, now, forecast_days, tz),
        weakest=weakest_kps(bank, store.recent_reviews(RECENT_EVIDENCE)),
        reviews=store.count_reviews(),
    )
