"""Fixtures for practice: a fixed clock, a fresh store, FSRS without fuzz, and banks to practise on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from peprep.content.loader import load_content
from peprep.practice.cards import Bank, PracticeItem
from peprep.practice.scheduler import Scheduler
from peprep.practice.store import Store

START = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def scheduler() -> Scheduler:
    return Scheduler(enable_fuzzing=False)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "progress.sqlite3")


@pytest.fixture
def tree_bank(tree) -> Bank:
    """The shared fixture content (tests/conftest.py) as a bank."""
    return Bank.from_content(load_content(tree.content))


def item(id: str, difficulty: int = 1, kp=("a.k1",), key_points=("甲", "乙", "丙"), followups=(), parent=None,
         depth=0, root=None) -> PracticeItem:
    return PracticeItem(id=id, question_id=root or id, chapter=id.split(".")[0], prompt=f"问题 {id}？",
                        answer=f"答案 {id}。", key_points=tuple(key_points), kp=tuple(kp), difficulty=difficulty,
                        tags=(), depth=depth, parent=parent, followups=tuple(followups))


def chain_items() -> list[PracticeItem]:
    """A bank shaped for the interviewer: a 2-deep 追问 chain, a `ref:` follow-up, easier neighbours."""
    return [
        item("a.q.basic", 1, ["a.k1"], followups=["a.q.basic.f1"]),
        item("a.q.basic.f1", 1, ["a.k1", "a.k2"], ["深一"], ["a.q.basic.f1.g"], "a.q.basic", 1, "a.q.basic"),
        item("a.q.basic.f1.g", 1, ["a.k2"], [], [], "a.q.basic.f1", 2, "a.q.basic"),
        item("a.q.mid", 2, ["a.k2"], ["一", "二"], followups=["a.q.basic.f1"]),  # `ref:` into another chain
        item("a.q.hard", 3, ["a.k2", "a.k3"], followups=["a.q.hard.f"]),
        item("a.q.hard.f", 3, ["a.k3"], ["深"], [], "a.q.hard", 1, "a.q.hard"),
        item("a.q.other-easy", 1, ["a.k9"]),
        item("b.q.easy", 1, ["a.k2"]),
        item("b.q.hard", 3, ["b.k1"]),
    ]


@pytest.fixture
def chain_bank() -> Bank:
    return Bank(chain_items(), {"a": "甲章", "b": "乙章"},
                {"a.k1": "知识一", "a.k2": "知识二", "a.k3": "知识三", "a.k9": "知识九", "b.k1": "乙知识"})
