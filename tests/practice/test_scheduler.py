"""FSRS golden schedules: a fixed clock, fuzzing off, py-fsrs' default parameters."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import fsrs
import pytest

from peprep.practice.scheduler import Rating, Scheduler, format_interval, is_mastered, is_new

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)

# (rating, due after it, state, step, stability, difficulty); each review happens when the card falls due.
GOLDEN = [
    (Rating.Good, "2026-12-04T08:10:00+00:00", fsrs.State.Learning, 1, 2.3065, 2.118103970459016),
    (Rating.Good, "2026-12-06T08:10:00+00:00", fsrs.State.Review, None, 2.3065, 2.111214235785395),
    (Rating.Good, "2026-12-17T08:10:00+00:00", fsrs.State.Review, None, 10.971048263078135, 2.1043313908464483),
    (Rating.Again, "2026-12-17T08:20:00+00:00", fsrs.State.Relearning, 0, 1.53901253028147, 7.389975788014609),
    (Rating.Good, "2026-12-19T08:20:00+00:00", fsrs.State.Review, None, 1.5718415897918614, 7.377814181523433),
    (Rating.Easy, "2026-12-27T08:20:00+00:00", fsrs.State.Review, None, 7.870267819245711, 6.486830244144543),
    (Rating.Hard, "2027-01-12T08:20:00+00:00", fsrs.State.Review, None, 16.127352845625936, 7.653022571649363),
]


def test_golden_schedule(scheduler):
    card, now = scheduler.new_card("rope.q.why-rotate-qk", T0), T0
    for rating, due, state, step, stability, difficulty in GOLDEN:
        before = card
        card, log = scheduler.review(card, rating, now)
        assert before.last_review is None or before.last_review < now  # the input card is not mutated
        assert (card.due.isoformat(), card.state, card.step) == (due, state, step), rating
        assert card.stability == pytest.approx(stability, rel=1e-12)
        assert card.difficulty == pytest.approx(difficulty, rel=1e-12)
        assert (log.rating, log.review_datetime, card.last_review) == (rating, now, now)
        now = card.due


def test_preview_is_what_each_rating_then_gives(scheduler):
    card = scheduler.new_card("a.q.x", T0)
    preview = scheduler.preview(card, T0)
    assert preview == {Rating.Again: timedelta(minutes=1), Rating.Hard: timedelta(minutes=5.5),
                       Rating.Good: timedelta(minutes=10), Rating.Easy: timedelta(days=8)}
    for rating, interval in preview.items():
        assert scheduler.review(card, rating, T0)[0].due - T0 == interval


def test_preview_ignores_fuzz_but_review_applies_it():
    fuzzy = Scheduler(enable_fuzzing=True)
    card, now = fuzzy.new_card("a.q.x", T0), T0
    card, _ = fuzzy.review(card, Rating.Easy, now)  # 8 days: fuzz applies from 2.5 days on
    now = card.due
    exact = fuzzy.preview(card, now)[Rating.Good]
    seen = {fuzzy.review(card, Rating.Good, now)[0].due - now for _ in range(40)}
    assert len(seen) > 1 and all(abs(s - exact) <= exact * 0.2 for s in seen)  # fuzz: a spread around it


def test_naive_datetimes_are_refused(scheduler):
    card = scheduler.new_card("a.q.x", T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        scheduler.review(card, Rating.Good, datetime(2026, 12, 4, 8, 0))


def test_other_timezones_are_converted_to_utc(scheduler):
    beijing = timezone(timedelta(hours=8))
    card, _ = scheduler.review(scheduler.new_card("a.q.x", T0), Rating.Good, T0.astimezone(beijing))
    assert card.last_review == T0 and card.last_review.tzinfo == timezone.utc


def test_new_and_mastered(scheduler):
    card = scheduler.new_card("a.q.x", T0)
    assert is_new(None) and is_new(card) and not is_mastered(card)
    card, _ = scheduler.review(card, Rating.Easy, T0)
    assert not is_new(card) and not is_mastered(card)  # stability 8.3 days: still learning
    card, _ = scheduler.review(card, Rating.Easy, card.due)
    assert card.stability >= 21 and is_mastered(card)


@pytest.mark.parametrize("delta, label", [
    (timedelta(seconds=10), "1分钟"), (timedelta(minutes=5.5), "6分钟"), (timedelta(minutes=10), "10分钟"),
    (timedelta(hours=3), "3小时"), (timedelta(days=8), "8天"), (timedelta(days=45), "1.5月"),
    (timedelta(days=60), "2月"), (timedelta(days=400), "1.1年"), (timedelta(days=730), "2年"),
])
def test_format_interval(delta, label):
    assert format_interval(delta) == label
