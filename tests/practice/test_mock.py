"""The mock interviewer on a fixture bank: deeper after good answers, a simpler neighbour after poor ones."""

from __future__ import annotations

import json

import pytest

from peprep.practice.mock import (
    DURATIONS,
    Interviewer,
    MockError,
    MockRunner,
    MockSession,
    mention_spans,
    rating_for_score,
    scorecard,
)
from peprep.practice.scheduler import Rating

ALL, MOST, ONE, NONE = [0, 1, 2], [0, 1], [0], []  # ticks on a three-key-point question


@pytest.fixture
def interviewer(chain_bank, clock):
    return Interviewer(chain_bank, clock)


def ask(interviewer, session, ticks, answer="我的回答"):
    index = len(session.turns) - 1
    interviewer.answer(session, index, answer)
    return interviewer.grade(session, index, ticks)


def start_at(interviewer, first: str, chapters=()):
    """A session whose first question is `first` (the queue order is the seed's business)."""
    session = interviewer.start(chapters, 30, seed=0)
    session.queue = [q for q in [session.turns[0].item_id, *session.queue] if q != first]
    session.turns[0].item_id = first
    return session


def test_queue_is_easiest_first_and_the_seed_fixes_the_order(interviewer):
    session = interviewer.start(minutes=15, seed=1)
    order = [session.turns[0].item_id, *session.queue]
    difficulties = [interviewer.bank[q].difficulty for q in order]
    assert difficulties == sorted(difficulties) and len(order) == 6  # roots only, never a follow-up
    assert order == [interviewer.start(minutes=15, seed=1).turns[0].item_id, *interviewer.start(minutes=15, seed=1).queue]
    orders = {tuple([s.turns[0].item_id, *s.queue]) for s in (interviewer.start(seed=n) for n in range(12))}
    assert len(orders) > 1  # the seed really shuffles within a difficulty


def test_good_answers_drill_down_the_chain(interviewer):
    session = start_at(interviewer, "a.q.basic")
    turn = ask(interviewer, session, ALL)
    assert (turn.item_id, turn.move) == ("a.q.basic.f1", "deeper")
    turn = ask(interviewer, session, [0])  # one key point of one: a perfect answer
    assert (turn.item_id, turn.move) == ("a.q.basic.f1.g", "deeper")
    turn = ask(interviewer, session, [0])  # no key points written: the fallback one; end of the chain
    assert turn.move == "next" and interviewer.bank[turn.item_id].depth == 0


def test_a_middling_answer_moves_on(interviewer):
    session = start_at(interviewer, "a.q.basic")
    upcoming = session.queue[0]
    turn = ask(interviewer, session, ONE)  # 1/3: neither good nor poor
    assert (turn.item_id, turn.move) == (upcoming, "next")


def test_good_is_two_thirds(interviewer):
    session = start_at(interviewer, "a.q.basic")
    assert ask(interviewer, session, MOST).move == "deeper"


def test_a_poor_answer_gets_an_easier_neighbour_sharing_a_kp(interviewer):
    session = start_at(interviewer, "a.q.hard")
    turn = ask(interviewer, session, NONE)
    # a.q.mid (difficulty 2) and b.q.easy (difficulty 1) share a.k2 with a.q.hard: the easier wins.
    assert (turn.item_id, turn.move) == ("b.q.easy", "simpler")
    assert "b.q.easy" not in session.queue


def test_the_neighbour_stays_in_the_chosen_chapters(interviewer):
    session = start_at(interviewer, "a.q.hard", chapters=["a"])
    assert ask(interviewer, session, NONE).item_id == "a.q.mid"


def test_a_poor_followup_answer_gets_a_question_no_harder_than_its_root(interviewer):
    session = start_at(interviewer, "a.q.hard")
    assert ask(interviewer, session, ALL).item_id == "a.q.hard.f"
    turn = ask(interviewer, session, NONE)  # a.q.hard.f cites a.k3 only: no KP neighbour, so same chapter
    assert (turn.item_id, turn.move) == ("a.q.basic", "simpler")  # easiest first, then bank order


def test_nothing_simpler_means_moving_on(interviewer):
    session = start_at(interviewer, "b.q.easy")  # difficulty 1: nothing is easier
    turn = ask(interviewer, session, NONE)
    assert turn.move == "next"


def test_a_ref_followup_is_followed_unless_already_asked(interviewer):
    session = start_at(interviewer, "a.q.mid")
    assert ask(interviewer, session, [0, 1]).item_id == "a.q.basic.f1"  # via `ref:`
    session = start_at(interviewer, "a.q.basic")
    ask(interviewer, session, ALL)  # -> a.q.basic.f1
    ask(interviewer, session, NONE)  # -> something else
    session.queue.insert(0, "a.q.mid")
    while session.turns[-1].item_id != "a.q.mid":
        ask(interviewer, session, ONE)
    assert ask(interviewer, session, [0, 1]).move == "next"  # its follow-up was asked already


def test_time_up_ends_after_the_answer_in_progress(interviewer, clock):
    session = interviewer.start(minutes=15, seed=0)
    clock.advance(minutes=16)  # the question was asked in time: it may still be answered
    assert ask(interviewer, session, ALL) is None
    assert (session.end_reason, session.finished, len(session.turns)) == ("time", True, 1)
    assert session.turns[0].score == 1.0 and session.turns[0].seconds == 16 * 60


def test_the_bank_running_out_ends_it(interviewer):
    session = interviewer.start(["b"], minutes=45, seed=0)
    assert ask(interviewer, session, ONE) is not None
    assert ask(interviewer, session, ONE) is None and session.end_reason == "exhausted"


def test_stale_and_invalid_requests_are_refused(interviewer):
    session = interviewer.start(minutes=15, seed=0)
    with pytest.raises(MockError, match="answer the question"):
        interviewer.grade(session, 0, [0])
    interviewer.answer(session, 0, "")
    assert session.turns[0].aloud  # an empty answer is an answer given aloud
    with pytest.raises(MockError, match="already been answered"):
        interviewer.answer(session, 0, "again")
    with pytest.raises(MockError, match="1 to 3"):
        interviewer.grade(session, 0, [3])
    with pytest.raises(MockError, match="no longer open"):
        interviewer.grade(session, 1, [0])
    interviewer.grade(session, 0, [0])
    with pytest.raises(MockError, match="no longer open"):
        interviewer.grade(session, 0, [0])  # the same form posted twice


def test_start_checks_duration_and_chapters(interviewer):
    assert DURATIONS == (15, 30, 45)
    with pytest.raises(MockError, match="15 / 30 / 45"):
        interviewer.start(minutes=20)
    with pytest.raises(MockError, match="unknown chapter"):
        interviewer.start(["zz"])


def test_stop_drops_the_unanswered_question(interviewer):
    session = interviewer.start(minutes=15, seed=0)
    ask(interviewer, session, ALL)
    interviewer.stop(session)
    assert (len(session.turns), session.end_reason, session.current) == (1, "stopped", None)


def test_session_survives_json(interviewer):
    session = interviewer.start(["a"], minutes=30, seed=3)
    ask(interviewer, session, ALL, answer="含 $q$ 的回答")
    again = MockSession.from_dict(json.loads(json.dumps(session.to_dict())))
    assert again == session


def test_scores_map_to_ratings_never_easy():
    assert [rating_for_score(s) for s in (0, 0.25, 1 / 3, 0.5, 2 / 3, 1)] == \
        [Rating.Again, Rating.Again, Rating.Hard, Rating.Hard, Rating.Good, Rating.Good]


def test_runner_saves_every_step_and_feeds_fsrs(chain_bank, store, scheduler, clock):
    runner = MockRunner(chain_bank, store, scheduler, clock)
    session = runner.start(["a"], minutes=15, seed=0)
    first = session.turns[0].item_id
    clock.advance(seconds=42)
    runner.answer(session, 0, "回答")
    assert runner.load(session.id).turns[0].answer == "回答"
    runner.grade(session, 0, ONE)
    (review,) = store.reviews()
    assert (review.card_id, review.source, review.rating, review.score, review.duration_ms, review.session_id) == \
        (first, "mock", Rating.Hard, 1 / 3, 42_000, session.id)
    loaded = runner.load(session.id)
    assert loaded == session and loaded.current.item_id == session.turns[1].item_id
    with pytest.raises(MockError):
        runner.grade(session, 0, ONE)
    assert len(store.reviews()) == 1
    runner.stop(session)
    assert store.list_mocks()[0]["finished"] and runner.load(session.id).end_reason == "stopped"


def test_scorecard_ticks_mentions_time_and_weakest(chain_bank, clock):
    interviewer = Interviewer(chain_bank, clock)
    session = start_at(interviewer, "a.q.hard")
    clock.advance(seconds=30)
    ask(interviewer, session, [0], answer="甲就是甲，还有丙")  # -> simpler b.q.easy
    clock.advance(seconds=10)
    ask(interviewer, session, ALL, answer="")
    card = scorecard(chain_bank, session)
    first, second = card.rows
    assert [(p.text, p.ticked, p.mentioned) for p in first.key_points] == \
        [("甲", True, True), ("乙", False, False), ("丙", False, True)]
    assert (first.seconds, second.seconds, second.aloud, card.seconds) == (30, 10, True, 40)
    assert card.mean_score == pytest.approx((1 / 3 + 1) / 2)
    # a.k3 only in the poor answer (1/3); a.k2 in both (2/3 mean); b.q.easy's perfect answer is not weak.
    assert [(w.kp, w.title, round(w.score, 3), w.answers) for w in card.weakest] == \
        [("a.k3", "知识三", 0.333, 1), ("a.k2", "知识二", 0.667, 2)]


def test_mention_spans_ignore_case_and_spacing_and_merge():
    assert mention_spans("需要PE 与 rope", ["需要 pe", "RoPE", "pe"]) == [(0, 4), (7, 11)]
    assert mention_spans("nothing", ["甲", " "]) == []
