"""Progress: per-chapter states, retention of review-state cards, forecast days, weakest KPs."""

from __future__ import annotations

from datetime import date, timedelta, timezone

from peprep.practice.progress import chapter_progress, forecast, progress_report, retention_by_day, weakest_kps
from peprep.practice.scheduler import Rating

UTC = timezone.utc


def review(store, scheduler, clock, card_id, *ratings, every=None, **extra):
    """Review `card_id` with each rating, each time when it falls due (or `every` later)."""
    for rating in ratings:
        card = store.card(card_id)
        if card is not None:
            clock.now = max(clock.now, card.due) if every is None else clock.now + every
        store.record_review(card_id, rating, scheduler=scheduler, now=clock.now, **extra)


def test_chapters_count_new_learning_mastered_and_due(chain_bank, store, scheduler, clock):
    start = clock.now
    review(store, scheduler, clock, "a.q.basic", Rating.Easy, Rating.Easy)  # stability >= 21 days: mastered
    clock.now = start
    review(store, scheduler, clock, "a.q.mid", Rating.Good)  # learning, due in 10 minutes
    review(store, scheduler, clock, "b.q.easy", Rating.Again)
    review(store, scheduler, clock, "gone.q.removed", Rating.Good)  # not in the bank: not counted
    clock.now = start + timedelta(hours=1)
    rows = {r.id: r for r in chapter_progress(chain_bank, store.cards(), clock.now)}
    assert (rows["a"].total, rows["a"].new, rows["a"].learning, rows["a"].mastered, rows["a"].due) == (7, 5, 1, 1, 1)
    assert (rows["b"].total, rows["b"].new, rows["b"].learning, rows["b"].mastered, rows["b"].due) == (2, 1, 1, 0, 1)
    assert rows["a"].title == "甲章"


def test_retention_counts_only_cards_already_in_review(chain_bank, store, scheduler, clock):
    review(store, scheduler, clock, "a.q.mid", Rating.Easy, Rating.Again, Rating.Good, Rating.Good)
    days = retention_by_day(store.reviews(), UTC)
    # The first rating met a new card, the Good after Again met a relearning one: neither counts.
    assert [(d.day, d.reviews, d.recalled) for d in days] == [(date(2026, 12, 12), 1, 0), (date(2026, 12, 13), 1, 1)]
    assert days[1].rate == 1.0


def test_forecast_puts_overdue_cards_today(chain_bank, store, scheduler, clock):
    review(store, scheduler, clock, "a.q.mid", Rating.Easy)  # due in 8 days
    review(store, scheduler, clock, "b.q.easy", Rating.Good)  # due in 10 minutes
    clock.advance(days=1)
    days = forecast(chain_bank, store.cards(), clock.now, days=10, tz=UTC)
    assert days[0] == (date(2026, 12, 5), 1) and days[7] == (date(2026, 12, 12), 1)
    assert sum(n for _, n in days) == 2 and len(days) == 10


def test_weakest_kps_from_ratings_and_mock_scores(chain_bank, store, scheduler, clock):
    review(store, scheduler, clock, "a.q.basic", Rating.Good, every=timedelta(minutes=1))  # a.k1: 0.8
    review(store, scheduler, clock, "b.q.hard", Rating.Easy)  # b.k1: 1.0, not weak
    review(store, scheduler, clock, "a.q.hard", Rating.Hard, source="mock", score=0.25)  # a.k2, a.k3: 0.25
    review(store, scheduler, clock, "b.q.easy", Rating.Again)  # a.k2: 0
    weak = weakest_kps(chain_bank, store.reviews())
    assert [(w.id, round(w.score, 3), w.evidence) for w in weak] == \
        [("a.k2", 0.125, 2), ("a.k3", 0.25, 1), ("a.k1", 0.8, 1)]
    assert weak[0].title == "知识二"


def test_weakest_uses_only_recent_evidence(chain_bank, store, scheduler, clock):
    review(store, scheduler, clock, "b.q.hard", Rating.Again, Rating.Again, every=timedelta(minutes=1))
    review(store, scheduler, clock, "b.q.hard", *[Rating.Easy] * 5, every=timedelta(days=1))
    assert weakest_kps(chain_bank, store.reviews()) == []  # the last five were all Easy


def test_report_json_shape(chain_bank, store, scheduler, clock):
    review(store, scheduler, clock, "a.q.basic", Rating.Good)
    data = progress_report(chain_bank, store, clock.now, UTC, forecast_days=3).to_json()
    assert set(data) == {"chapters", "totals", "retention", "forecast", "weakest", "reviews"}
    assert data["totals"] == {"total": 9, "new": 8, "learning": 1, "mastered": 0, "due": 0}
    assert data["forecast"] == [{"day": "2026-12-04", "due": 1}, {"day": "2026-12-05", "due": 0},
                                {"day": "2026-12-06", "due": 0}]
    assert data["reviews"] == 1 and data["weakest"][0]["id"] == "a.k1"


def test_report_reads_retention_from_the_window_only(chain_bank, store, scheduler, clock):
    review(store, scheduler, clock, "a.q.mid", Rating.Easy, Rating.Good, Rating.Again)  # Good on 12-12
    clock.advance(days=200)
    assert progress_report(chain_bank, store, clock.now, UTC).retention == []  # 90 days back: nothing
    report = progress_report(chain_bank, store, clock.now, UTC, retention_days=365)
    assert [(d.reviews, d.recalled) for d in report.retention] == [(1, 1), (1, 0)]
    assert report.reviews == 3
