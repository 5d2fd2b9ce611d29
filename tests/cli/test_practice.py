"""Terminal practice flows through Typer's runner: no TTY, answers fed line by line, a fixed clock."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

import peprep.cli.practice as practice_cli
from peprep.cli import app
from peprep.practice.mock import MockSession
from peprep.practice.scheduler import Rating
from peprep.practice.store import Store

runner = CliRunner()
START = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(practice_cli, "clock", clock)
    return clock


@pytest.fixture
def db(tmp_path):
    return tmp_path / "progress.sqlite3"


def run(tree, db, *args: str, input: str = ""):
    return runner.invoke(app, [*args, "--db", str(db), "--content", str(tree.content)], input=input,
                         env={"COLUMNS": "100"})


def test_review_reveals_rates_saves_and_q_quits(tree, db, clock):
    result = run(tree, db, "review", input="置换等变\n3\n\n1\nq\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "为什么需要位置编码？" in out and "RoPE 如何注入位置？" in out  # the question, then its 追问
    assert "Attn(PX) = P Attn(X)" in out and "\\mathrm" not in out and "$" not in out  # formulas as text
    assert "置换等变" in out and "需要 PE" in out  # key points shown with the answer
    assert "1 重来 Again (1分钟)" in out and "3 良好 Good (10分钟)" in out and "4 简单 Easy (8天)" in out
    assert "reviewed 2" in out
    reviews = Store(db).reviews()
    assert [(r.card_id, r.rating) for r in reviews] == [("why.q.need-pe", Rating.Good),
                                                        ("why.q.need-pe.rope", Rating.Again)]


def test_q_at_the_rating_prompt_saves_nothing_half_done(tree, db, clock):
    result = run(tree, db, "review", input="答案\nq\n")
    assert result.exit_code == 0 and "reviewed 0" in result.output
    assert Store(db).reviews() == []


def test_end_of_input_quits_cleanly_and_bad_ratings_are_asked_again(tree, db, clock):
    result = run(tree, db, "review", "--no-followups", input="\nx\n5\n2\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("请输入 1、2、3 或 4") == 2
    assert [r.rating for r in Store(db).reviews()] == [Rating.Hard]


def test_review_filters_and_nothing_due(tree, db, clock):
    result = run(tree, db, "review", "--difficulty", "2", "--no-followups", input="\n4\n")
    assert result.exit_code == 0 and "第二个问题？" in result.output and "Nothing is due" in result.output
    assert run(tree, db, "review", "--chapter", "nope").exit_code == 2


def test_mock_drills_down_scores_saves_and_reopens(tree, db, clock):
    # Q1 (why.q.need-pe, difficulty 1): both key points typed -> the default ticks are both -> deeper.
    # Q2 (its 追问 rope): answered aloud, ticked 0 -> poor; nothing simpler -> next: why.q.second.
    # Q3: answered, then q.
    result = run(tree, db, "mock", "--seed", "1", input="置换等变，所以需要 PE\n\n\n0\n位置编码\nq\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "第 2 问 · 追问 deeper" in out and "第 3 问 · 下一题 next" in out
    assert "(你的回答提到了 mentioned)" in out and "回车 = 1 2" in out
    assert "成绩单 scorecard" in out and "平均 50%" in out and "口头回答" in out
    session_id = out.split("peprep mock --open ")[1].split()[0]
    saved = MockSession.from_dict(Store(db).load_mock(session_id))
    assert [t.item_id for t in saved.turns] == ["why.q.need-pe", "why.q.need-pe.rope"]  # Q3 was never graded
    assert saved.end_reason == "stopped"
    assert [(r.card_id, r.source, r.rating) for r in Store(db).reviews()] == \
        [("why.q.need-pe", "mock", Rating.Good), ("why.q.need-pe.rope", "mock", Rating.Again)]
    reopened = run(tree, db, "mock", "--open", session_id)
    assert reopened.exit_code == 0 and "平均 50%" in reopened.output and "✓ 置换等变 (提到)" in reopened.output
    listed = run(tree, db, "mock", "--list")
    assert session_id in listed.output and "stopped" in listed.output


def test_mock_ends_when_time_is_up(tree, db, clock, monkeypatch):
    replies = iter(["我的回答", "1"])

    def slow_candidate(prompt: str) -> str:
        clock.now = START + timedelta(minutes=20)  # 20 minutes over the first answer of a 15-minute interview
        return next(replies, "q")

    monkeypatch.setattr(practice_cli, "_ask", slow_candidate)
    result = run(tree, db, "mock", "--minutes", "15")
    assert result.exit_code == 0, result.output
    assert "时间到" in result.output and "第 2 问" not in result.output
    (saved,) = Store(db).list_mocks()
    session = MockSession.from_dict(saved["data"])
    assert (session.end_reason, len(session.turns), session.turns[0].seconds) == ("time", 1, 20 * 60)


def test_mock_refuses_bad_duration_and_unknown_session(tree, db, clock):
    assert run(tree, db, "mock", "--minutes", "20").exit_code == 2
    result = run(tree, db, "mock", "--open", "nope")
    assert result.exit_code == 1 and "no saved mock interview" in result.output


def test_progress_report_and_json(tree, db, clock):
    run(tree, db, "review", "--no-followups", input="\n3\n\n4\n")
    result = run(tree, db, "progress", "--json")
    data = json.loads(result.output)
    assert data["totals"] == {"total": 3, "new": 1, "learning": 2, "mastered": 0, "due": 0}
    assert data["reviews"] == 2 and data["db"] == str(db)
    text = run(tree, db, "progress")
    assert text.exit_code == 0 and "为什么需要位置编码" in text.output and "forecast" in text.output


def test_progress_export_and_import(tree, db, clock, tmp_path):
    run(tree, db, "review", "--no-followups", input="\n3\n")
    file = tmp_path / "export.json"
    result = runner.invoke(app, ["progress", "export", str(file), "--db", str(db)])
    assert result.exit_code == 0 and "1 reviews" in result.output
    other = tmp_path / "other.sqlite3"
    result = runner.invoke(app, ["progress", "import", str(file), "--db", str(other)])
    assert result.exit_code == 0 and "reviews added 1" in result.output
    assert Store(other).reviews() == Store(db).reviews()
    file.write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["progress", "import", str(file), "--db", str(other)])
    assert result.exit_code == 1 and "not a peprep progress export" in result.output


def test_a_corrupt_database_is_a_clear_error_and_left_alone(tree, tmp_path, clock):
    db = tmp_path / "progress.sqlite3"
    db.write_bytes(b"this is my thesis, not a database" * 50)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for args in (["review"], ["mock"], ["progress"]):
        result = run(tree, db, *args)
        assert result.exit_code == 1 and "not an SQLite database" in result.output and "left untouched" in result.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_the_database_defaults_to_peprep_db(tree, tmp_path, clock):
    db = tmp_path / "env.sqlite3"
    result = runner.invoke(app, ["review", "--no-followups", "--content", str(tree.content)], input="\n3\nq\n",
                           env={"PEPREP_DB": str(db), "COLUMNS": "100"})
    assert result.exit_code == 0 and len(Store(db).reviews()) == 1


def test_a_full_disk_mid_review_is_a_clear_message_and_keeps_what_was_saved(tree, db, clock, monkeypatch):
    Store(db)  # created while the disk still has room
    real = Store.record_review
    calls = []

    def full_after_first(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise __import__("sqlite3").OperationalError("database or disk is full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "record_review", full_after_first)
    result = run(tree, db, "review", input="\n3\n\n1\nq\n")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "database or disk is full" in result.output and "Everything saved before this point is kept" in result.output
    assert [r.card_id for r in Store(db).reviews()] == ["why.q.need-pe"]
