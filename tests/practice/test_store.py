"""The progress file: created on first use, versioned, append-only, and never overwritten when it is not ours."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import fsrs
import pytest

from peprep.practice.scheduler import Rating, Scheduler
from peprep.practice.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    CorruptStoreError,
    ForeignStoreError,
    NewerStoreError,
    Store,
    StoreError,
    card_json,
    default_db_path,
)

START = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_created_on_first_use_with_our_identity_and_wal(tmp_path):
    path = tmp_path / "deep" / "er" / "progress.sqlite3"
    Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert {"cards", "reviews", "mock_sessions"} <= tables


def test_default_path_follows_env_then_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("PEPREP_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "peprep" / "progress.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local" / "share" / "peprep" / "progress.sqlite3"
    monkeypatch.setenv("PEPREP_DB", str(tmp_path / "mine.db"))
    assert default_db_path() == tmp_path / "mine.db"


def test_review_is_scheduled_logged_and_kept_across_reopen(store, scheduler):
    record = store.record_review("a.q.x", Rating.Good, scheduler=scheduler, now=START, duration_ms=1500)
    assert (record.id, record.card_id, record.rating, record.reviewed_at, record.duration_ms) == \
        (1, "a.q.x", Rating.Good, START, 1500)
    assert (record.source, record.state_before, record.due_after) == ("review", None, START + timedelta(minutes=10))
    reopened = Store(store.path)
    card = reopened.card("a.q.x")
    assert card_json(card) == card_json(scheduler.review(scheduler.new_card("a.q.x", START), Rating.Good, START)[0])
    second = reopened.record_review("a.q.x", Rating.Good, scheduler=scheduler, now=card.due)
    assert second.state_before == fsrs.State.Learning and len(reopened.reviews("a.q.x")) == 2
    assert reopened.card("a.q.x").state == fsrs.State.Review


def test_a_resubmitted_review_uid_is_one_review(store, scheduler):
    first = store.record_review("a.q.x", Rating.Good, scheduler=scheduler, now=START, uid="form-1")
    again = store.record_review("a.q.x", Rating.Easy, scheduler=scheduler, now=START, uid="form-1")
    assert again == first and len(store.reviews()) == 1 and store.card("a.q.x").step == 1


def test_review_log_is_append_only(store, scheduler):
    store.record_review("a.q.x", Rating.Good, scheduler=scheduler, now=START)
    conn = sqlite3.connect(store.path)
    for sql in ("UPDATE reviews SET rating = 4", "DELETE FROM reviews"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    assert len(store.reviews()) == 1


def test_first_reviews_since_counts_cards_first_seen(store, scheduler):
    store.record_review("a.q.x", Rating.Good, scheduler=scheduler, now=START - timedelta(days=1))
    store.record_review("a.q.x", Rating.Good, scheduler=scheduler, now=START + timedelta(hours=1))
    store.record_review("a.q.y", Rating.Good, scheduler=scheduler, now=START + timedelta(hours=1))
    assert store.first_reviews_since(START) == 1


def test_mock_sessions_are_saved_updated_and_listed(store):
    store.save_mock("s1", START, False, {"turns": [], "note": "中文"}, START)
    store.save_mock("s1", START, True, {"turns": [1]}, START + timedelta(minutes=5))
    store.save_mock("s2", START + timedelta(days=1), False, {"turns": []}, START)
    assert store.load_mock("s1") == {"turns": [1]} and store.load_mock("nope") is None
    assert [(m["id"], m["finished"]) for m in store.list_mocks()] == [("s2", False), ("s1", True)]


# -- files that are not ours are refused and left untouched ----------------------------------------


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path):
    path = tmp_path / "progress.sqlite3"
    path.write_bytes(b"\x00\x01garbage that is not a database" * 100)
    before = digest(path)
    with pytest.raises(CorruptStoreError, match="not an SQLite database.*left untouched"):
        Store(path)
    assert digest(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["progress.sqlite3"]


def test_another_programs_database_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(ForeignStoreError, match="another program"):
        Store(path)
    assert digest(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_a_database_from_a_newer_peprep_is_refused(store):
    conn = sqlite3.connect(store.path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerStoreError, match="newer peprep"):
        Store(store.path)


def test_a_damaged_database_is_refused_untouched(store, scheduler):
    for i in range(300):
        store.record_review(f"a.q.{i}", Rating.Good, scheduler=scheduler, now=START, uid=f"u{i}" + "x" * 200)
    conn = sqlite3.connect(store.path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(store.path.read_bytes())
    page = 4096
    data[2 * page:6 * page] = b"\xff" * (4 * page)  # scribble over pages of the tables, keep the header
    store.path.write_bytes(bytes(data))
    before = digest(store.path)
    with pytest.raises(CorruptStoreError, match="damaged"):
        Store(store.path)
    assert digest(store.path) == before


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_an_empty_file_becomes_a_store(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    Store(path).record_review("a.q.x", 3, scheduler=Scheduler(enable_fuzzing=False), now=START)
    assert len(Store(path).reviews()) == 1


# -- concurrency: two writers lose nothing ----------------------------------------------------------


def replay_matches_store(store: Store) -> None:
    """Every card's stored state is exactly its log replayed in order: no review was lost or overwritten."""
    scheduler, log = Scheduler(enable_fuzzing=False), store.reviews()
    replayed: dict[str, fsrs.Card] = {}
    for review in log:
        card = replayed.get(review.card_id) or scheduler.new_card(review.card_id, review.reviewed_at)
        replayed[review.card_id] = scheduler.review(card, review.rating, review.reviewed_at)[0]
    assert {k: card_json(v) for k, v in replayed.items()} == {k: card_json(v) for k, v in store.cards().items()}


def test_two_threads_reviewing_the_same_cards_lose_nothing(store, scheduler):
    def worker(name: str) -> None:
        for i in range(60):
            store.record_review(f"a.q.{i % 3}", Rating(i % 4 + 1), scheduler=scheduler,
                                now=START + timedelta(minutes=i), uid=f"{name}-{i}")

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("tab1", "tab2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.uid for r in store.reviews()) == sorted(f"{n}-{i}" for n in ("tab1", "tab2") for i in range(60))
    replay_matches_store(store)


WRITER = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timedelta, timezone
    from peprep.practice.scheduler import Rating, Scheduler
    from peprep.practice.store import Store
    path, name, go = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store, scheduler = Store(path), Scheduler(enable_fuzzing=False)
    t0 = datetime(2026, 12, 4, tzinfo=timezone.utc)
    while time.time() < go:
        time.sleep(0.001)
    for i in range(100):
        store.record_review(f"a.q.{i % 4}", Rating(i % 4 + 1), scheduler=scheduler,
                            now=t0 + timedelta(minutes=i), uid=f"{name}-{i}")
""")


def test_two_processes_reviewing_the_same_cards_lose_nothing(store):
    import time

    go = time.time() + 1.0  # both start writing at the same moment
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(store.path), name, str(go)])
             for name in ("p1", "p2")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    uids = [r.uid for r in store.reviews()]
    assert sorted(uids) == sorted(f"{n}-{i}" for n in ("p1", "p2") for i in range(100))
    assert any(a[:2] != b[:2] for a, b in zip(uids, uids[1:]))  # they really interleaved
    replay_matches_store(store)


def test_partial_reads_of_the_log(store, scheduler):
    for i, card in enumerate(["a.q.x", "a.q.y", "a.q.x", "a.q.x", "a.q.y", "a.q.x"]):
        store.record_review(card, Rating.Good, scheduler=scheduler, now=START + timedelta(days=i), uid=f"r{i}")
    assert [r.uid for r in store.recent_reviews(per_card=2)] == ["r1", "r3", "r4", "r5"]  # x: r3 r5, y: r1 r4
    assert [r.uid for r in store.reviews(since=START + timedelta(days=4))] == ["r4", "r5"]
    assert [r.uid for r in store.reviews(card_id="a.q.y")] == ["r1", "r4"]
    # x: new, learning, then review (r3, r5); y was still at its second learning step when seen again
    assert [r.uid for r in store.reviews(state_before=fsrs.State.Review)] == ["r3", "r5"]
    assert store.count_reviews() == 6
