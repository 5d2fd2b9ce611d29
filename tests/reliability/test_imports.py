"""Imported progress files that are damaged or hand-edited: refused cleanly by `read_import`, or, once in the
store, never a 500 on the practice pages (a damaged mock record is one 422 page; the lists skip it)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_kit import SAME_ORIGIN, assert_no_trace, count

from peprep.practice.store import Store
from peprep.practice.transfer import TransferError, export_progress, import_progress, read_import

PAGES = ("/mock", "/progress", "/review")


@pytest.fixture(scope="module")
def valid_export(app, client) -> dict:
    """A real export holding one answered, graded mock session and its review."""
    session = client.post("/mock/start", data={"minutes": "15"}, headers=SAME_ORIGIN).headers["location"]
    client.post(f"{session}/answer", data={"turn": "0", "answer": "答案"}, headers=SAME_ORIGIN)
    client.post(f"{session}/grade", data={"turn": "0", "tick": "0"}, headers=SAME_ORIGIN)
    return export_progress(app.state.practice.store, datetime.now(timezone.utc))


def try_import(app, client, tmp_path, data, name: str) -> str:
    """'refused' when read_import says why; else imports it and checks every practice page."""
    file = tmp_path / f"{name}.json"
    file.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    try:
        parsed = read_import(file)
    except TransferError as exc:
        assert str(file) in str(exc) or "JSON" in str(exc) or "peprep" in str(exc)
        return "refused"
    import_progress(app.state.practice.store, parsed)
    for path in PAGES + tuple(f"/mock/{s.id}" for s in parsed.mock_sessions if len(s.id) <= 64):
        response = client.get(path)
        assert_no_trace(response)
    return "imported"


def mutate(export: dict, where: str, value) -> dict:
    data = copy.deepcopy(export)
    session = data["mock_sessions"][0]
    session["id"] = f"m{abs(hash((where, repr(value)))) % 10**12}"
    session["data"]["id"] = session["id"]
    session["updated_at"] = "2999-01-01T00:00:00+00:00"
    target, key = {
        "turn": (session["data"]["turns"][0], None), "session": (session["data"], None),
    }[where.split(".")[0]]
    key = where.split(".", 1)[1]
    if value is DELETE:
        target.pop(key, None)
    else:
        target[key] = value
    return data


DELETE = object()
DATA_MUTATIONS = [
    ("turn.note", "unknown field"), ("turn.answer", DELETE), ("turn.answer", 42), ("turn.answer", None),
    ("turn.ticked", "0,1"), ("turn.ticked", [99, -1]), ("turn.ticked", [{"a": 1}]), ("turn.score", "high"),
    ("turn.score", 7.5), ("turn.asked_at", "yesterday"), ("turn.asked_at", None), ("turn.item_id", "no.such.item"),
    ("turn.item_id", 12), ("turn.move", ["first"]), ("session.turns", "none"), ("session.turns", [None]),
    ("session.minutes", "15"), ("session.minutes", 10**30), ("session.chapters", None), ("session.started_at", "soon"),
    ("session.ended_at", 5), ("session.end_reason", "<script>"), ("session.queue", {"a": 1}), ("session.extra", 1),
]


@pytest.mark.parametrize("where,value", DATA_MUTATIONS, ids=lambda v: repr(v)[:30])
def test_damaged_mock_records_never_break_the_pages(app, client, tmp_path, valid_export, where, value):
    try_import(app, client, tmp_path, mutate(valid_export, where, value), "damaged")
    count("imports: damaged mock records")


FILE_MUTATIONS = [
    "", "not json", "[]", "null", '{"format": "other"}', '{"format": "peprep-progress", "version": 99}',
    '{"format": "peprep-progress", "version": 1}', "\ufeff{}", '{"format": "peprep-progress"' + " " * 10,
]


@pytest.mark.parametrize("text", FILE_MUTATIONS, ids=lambda t: repr(t)[:25])
def test_files_that_are_not_exports_are_refused(app, client, tmp_path, text):
    assert try_import(app, client, tmp_path, text, "notexport") == "refused"
    count("imports: files that are not exports")


@pytest.mark.parametrize("field,value", [("started_at", "not a time")])
def test_session_times_are_validated_on_import(content_dir, tmp_path, valid_export, field, value):
    from fastapi.testclient import TestClient
    from reliability_kit import BASE

    from peprep.web.app import create_app

    own = create_app(content_dir, db_path=tmp_path / "own.sqlite3")  # a broken store must not leak into others
    data = copy.deepcopy(valid_export)
    data["mock_sessions"][0][field] = value
    count("imports: bad session times")
    assert try_import(own, TestClient(own, base_url=BASE), tmp_path, data, "times") == "refused"


# Finite floats only: NaN / Infinity are refused on import (test_non_finite_numbers_are_refused_on_import).
@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN"])
def test_non_finite_numbers_are_refused_on_import(app, client, tmp_path, valid_export, number):
    text = json.dumps(mutate(valid_export, "turn.answer", "PLACEHOLDER")).replace('"PLACEHOLDER"', number)
    count("imports: non-finite numbers")
    assert try_import(app, client, tmp_path, text, "nonfinite") == "refused"


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
TURN_KEYS = ["item_id", "move", "asked_at", "answered_at", "answer", "aloud", "ticked", "score"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=st.sampled_from(TURN_KEYS + ["minutes", "chapters", "queue", "end_reason", "ended_at"]), value=JSON)
def test_fuzzed_mock_records_never_break_the_pages(app, client, tmp_path_factory, valid_export, key, value):
    where = f"turn.{key}" if key in TURN_KEYS else f"session.{key}"
    try_import(app, client, tmp_path_factory.mktemp("fuzz"), mutate(valid_export, where, value), "fuzz")
    count("imports: fuzzed mock records (hypothesis)")


def test_damaged_record_is_a_422_page_and_the_rest_still_list(app, client, tmp_path, valid_export):
    data = mutate(valid_export, "turn.answer", 42)
    try_import(app, client, tmp_path, data, "one-bad")
    response = client.get(f"/mock/{data['mock_sessions'][0]['id']}")
    assert response.status_code == 422 and "损坏" in response.text
    assert client.get("/mock").status_code == 200
    assert Store(app.state.practice.db_path).count_reviews() >= 1  # nothing else was lost
