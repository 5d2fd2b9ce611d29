"""The review queue: due first (most overdue first), then new under a daily limit, then learn-ahead."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from peprep.practice.review import ReviewFilter, ReviewSession, day_start
from peprep.practice.scheduler import Rating


@pytest.fixture
def session(chain_bank, store, scheduler, clock):
    return ReviewSession(chain_bank, store, scheduler, clock, tz=timezone.utc)


def test_new_cards_come_in_bank_order_and_followups_wait_for_their_parent(session):
    first = session.next()
    assert (first.item.id, first.kind, first.card) == ("a.q.basic", "new", None)
    session.rate("a.q.basic", Rating.Easy)  # due in days: out of the way
    assert session.next().item.id == "a.q.basic.f1"  # its 追问 is now unlocked, and next in bank order
    session.rate("a.q.basic.f1", Rating.Easy)
    assert session.next().item.id == "a.q.basic.f1.g"


def test_due_cards_come_before_new_ones_most_overdue_first(session, clock):
    session.rate("a.q.mid", Rating.Easy)
    clock.advance(days=1)
    session.rate("b.q.easy", Rating.Easy)
    clock.advance(days=30)
    assert [session.next().kind, session.next().item.id] == ["due", "a.q.mid"]
    session.rate("a.q.mid", Rating.Good)
    assert session.next().item.id == "b.q.easy"
    session.rate("b.q.easy", Rating.Good)
    assert session.next().kind == "new"


def test_daily_new_limit_counts_cards_first_seen_today(chain_bank, store, scheduler, clock):
    session = ReviewSession(chain_bank, store, scheduler, clock, ReviewFilter(followups=False), new_per_day=2,
                            tz=timezone.utc)
    for _ in range(2):
        session.rate(session.next().item.id, Rating.Easy)
    assert session.next() is None and session.counts().new == 0
    clock.advance(days=1)  # a new day: two more, though the first two are not due yet
    assert session.counts().new == 2


def test_an_again_comes_back_within_the_sitting(chain_bank, store, scheduler, clock):
    session = ReviewSession(chain_bank, store, scheduler, clock, ReviewFilter(chapters=("b",), difficulties=(1,)),
                            tz=timezone.utc)
    session.rate("b.q.easy", Rating.Again)
    ahead = session.next()
    assert (ahead.item.id, ahead.kind) == ("b.q.easy", "ahead")  # due in 1 minute: shown rather than nothing
    session.rate("b.q.easy", Rating.Easy)
    assert session.next() is None


def test_filters_limit_the_pool(chain_bank, store, scheduler, clock):
    session = ReviewSession(chain_bank, store, scheduler, clock, ReviewFilter(chapters=("b",), difficulties=(3,)))
    assert session.next().item.id == "b.q.hard"
    assert session.counts().new == 1


def test_preview_matches_the_rating_it_labels(session, clock):
    preview = session.preview("a.q.basic")
    record = session.rate("a.q.basic", Rating.Hard)
    assert record.due_after - record.reviewed_at == preview[Rating.Hard] == timedelta(minutes=5.5)


def test_cards_outside_the_bank_are_kept_but_not_offered(session, store, scheduler, clock):
    store.record_review("gone.q.removed", Rating.Good, scheduler=scheduler, now=clock())
    clock.advance(days=365)
    assert session.next().item.id == "a.q.basic" and store.card("gone.q.removed") is not None
    with pytest.raises(KeyError):
        session.rate("gone.q.removed", Rating.Good)


def test_day_start_is_local_midnight_in_utc(clock):
    beijing = timezone(timedelta(hours=8))
    assert day_start(clock(), beijing).isoformat() == "2026-12-03T16:00:00+00:00"
    assert day_start(clock(), timezone.utc).isoformat() == "2026-12-04T00:00:00+00:00"
