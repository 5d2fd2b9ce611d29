"""`progress export` / `import`: versioned JSON that round-trips exactly and merges safely."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from peprep.practice.scheduler import Rating
from peprep.practice.store import Store
from peprep.practice.transfer import TransferError, export_progress, import_progress, read_import, write_export

START = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def filled(store, scheduler) -> Store:
    now = START
    for i, rating in enumerate([3, 1, 4, 2, 3, 3]):
        store.record_review(f"a.q.{i % 3}", rating, scheduler=scheduler, now=now, duration_ms=None if i == 2 else 1000 + i)
        now += timedelta(hours=7)
    store.record_review("a.q.0", Rating.Hard, scheduler=scheduler, now=now, source="mock", score=0.5,
                        uid="mock:s1:0", session_id="s1")
    store.save_mock("s1", START, True, {"turns": [{"item_id": "a.q.0", "answer": "旋转 $q$"}], "minutes": 15}, now)
    return store


def test_export_import_export_is_exact(filled, tmp_path):
    file = tmp_path / "progress.json"
    first = write_export(filled, file, START)
    assert first["format"] == "peprep-progress" and first["version"] == 1
    assert (len(first["cards"]), len(first["reviews"]), len(first["mock_sessions"])) == (3, 7, 1)
    fresh = Store(tmp_path / "fresh.sqlite3")
    counts = import_progress(fresh, read_import(file))
    assert counts == {"cards_added": 3, "cards_updated": 0, "reviews_added": 7, "sessions_added": 1,
                      "sessions_updated": 0}
    assert export_progress(fresh, START) == first
    assert {k: v.to_dict() for k, v in fresh.cards().items()} == {k: v.to_dict() for k, v in filled.cards().items()}
    assert fresh.reviews() == filled.reviews()


def test_importing_twice_changes_nothing(filled, tmp_path):
    file = tmp_path / "p.json"
    write_export(filled, file, START)
    counts = import_progress(filled, read_import(file))
    assert set(counts.values()) == {0}
    assert export_progress(filled, START) == json.loads(file.read_text(encoding="utf-8"))


def test_merge_appends_new_reviews_and_keeps_the_later_card(filled, scheduler, tmp_path):
    file = tmp_path / "p.json"
    write_export(filled, file, START)
    other = Store(tmp_path / "other.sqlite3")
    import_progress(other, read_import(file))
    later = START + timedelta(days=30)
    other.record_review("a.q.1", Rating.Easy, scheduler=scheduler, now=later, uid="laptop-1")
    write_export(other, file, later)
    filled.record_review("a.q.2", Rating.Good, scheduler=scheduler, now=later, uid="desktop-1")
    counts = import_progress(filled, read_import(file))
    assert (counts["reviews_added"], counts["cards_updated"]) == (1, 1)
    assert filled.card("a.q.1").last_review == later  # the laptop's newer state
    assert filled.card("a.q.2").last_review == later  # the desktop's own newer state was kept
    assert [r.uid for r in filled.reviews()][-2:] == ["desktop-1", "laptop-1"]


@pytest.mark.parametrize("text, message", [
    ("not json", "not a JSON file"),
    ('{"format": "anki"}', "not a peprep progress export"),
    ('{"format": "peprep-progress", "version": 99}', "newer peprep"),
])
def test_foreign_or_newer_files_are_refused(tmp_path, text, message):
    file = tmp_path / "p.json"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(TransferError, match=message):
        read_import(file)


@pytest.mark.parametrize("path, value, message", [
    (("reviews", 0, "rating"), 7, "reviews.0.rating"),
    (("reviews", 1, "reviewed_at"), "2026-12-04T08:00:00", "no timezone"),
    (("cards", 0, "fsrs"), {"state": 2}, "cards.0.fsrs"),
    (("reviews", 0, "surprise"), 1, "reviews.0.surprise"),
])
def test_malformed_entries_are_refused_before_anything_is_written(filled, tmp_path, path, value, message):
    data = export_progress(filled, START)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    file = tmp_path / "p.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    fresh = Store(tmp_path / "fresh.sqlite3")
    with pytest.raises(TransferError, match=message):
        import_progress(fresh, read_import(file))
    assert fresh.reviews() == [] and fresh.cards() == {}
