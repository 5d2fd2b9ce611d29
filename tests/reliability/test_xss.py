"""XSS: what a user types, searches or imports is inert everywhere it appears — pages, htmx fragments, error
pages, scorecards, the progress export, and the terminal scorecard (rich markup is text too)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from reliability_kit import PAYLOADS, SAME_ORIGIN, assert_inert, assert_no_trace, count
from selectolax.lexbor import LexborHTMLParser

FRAGMENT = {"HX-Request": "true"}


def visible_text(html: str) -> str:
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style"):
        node.decompose()
    return tree.body.text() if tree.body else ""


def attribute_values(html: str) -> list[str]:
    return [v for node in LexborHTMLParser(html).css("*") for v in node.attributes.values() if v]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_search_query_is_inert_in_the_page_and_the_live_fragment(client, payload):
    for headers in ({}, FRAGMENT):
        for params in ({"q": payload}, {"q": payload, "kind": "kp"}, {"q": payload + " RoPE"}):
            response = client.get("/search", params=params, headers=headers)
            assert_no_trace(response)
            assert_inert(response.text, f"search {payload!r}")
            count("XSS: search queries (page and htmx fragment)")
    page = client.get("/search", params={"q": payload}).text
    assert payload in attribute_values(page) or payload in visible_text(page)  # shown back, as text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_typed_mock_answer_is_inert_while_grading_and_on_the_scorecard(client, payload):
    start = client.post("/mock/start", data={"minutes": "15"}, headers=SAME_ORIGIN)
    session = start.headers["location"]
    assert client.post(f"{session}/answer", data={"turn": "0", "answer": payload}, headers=SAME_ORIGIN).status_code == 303
    grading = client.get(session)
    assert grading.status_code == 200
    assert_inert(grading.text, "mock grading")
    assert payload.strip() in visible_text(grading.text).replace("\n", "") or payload in grading.text.replace("&#34;", '"')
    client.post(f"{session}/grade", data={"turn": "0", "tick": "0"}, headers=SAME_ORIGIN)
    client.post(f"{session}/stop", headers=SAME_ORIGIN)
    for path in (session, "/mock", "/progress"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.text, f"{path} after answer {payload!r}")
    count("XSS: typed mock answers (grading, scorecard, lists)", 4)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_ids_reflected_in_error_pages_are_inert(client, app, payload):
    encoded = quote(payload, safe="")
    for path in (f"/kp/{encoded}", f"/questions/{encoded}", f"/chapters/{encoded}", f"/mock/{encoded}",
                 f"/drills/{encoded}", f"/exports/{encoded}", f"/questions?chapter={encoded}",
                 f"/questions?tag={encoded}", f"/review?chapter={encoded}", f"/glossary?{encoded}=1"):
        response = client.get(path)
        assert_no_trace(response)
        assert_inert(response.text, path)
    form = {"card_id": payload, "rating": "3", "uid": "a" * 32, "shown_at": "0", "chapter": payload}
    response = client.post("/review/rate", data=form, headers=SAME_ORIGIN)
    assert response.status_code == 400
    assert_inert(response.text, "rate error")
    count("XSS: ids and parameters reflected in error pages", 11)


def strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings(v) for v in value)) if value else set()
    return set()


def hostile_export(app, payload: str) -> dict:
    """A progress file as `peprep progress export` writes it, with the payload in every free-text field."""
    from peprep.practice.transfer import export_progress

    practice = app.state.practice
    data = export_progress(practice.store, datetime.now(timezone.utc))
    session = json.loads(json.dumps(data["mock_sessions"][0]))  # one the typed-answer test saved
    session["id"] = "imported" + re.sub(r"\W", "", str(abs(hash(payload))))
    for turn in session["data"].get("turns", []):
        turn["answer"] = payload
    session["data"]["id"] = session["id"]
    session["updated_at"] = "2999-01-01T00:00:00.000000+00:00"
    data["mock_sessions"] = [session]
    for review in data["reviews"]:
        review["uid"] = payload + review["uid"]
        review["session_id"] = payload
    data["reviews"] = data["reviews"][:3]
    return data


@pytest.mark.parametrize("payload", PAYLOADS)
def test_imported_progress_with_markup_is_inert(app, client, tmp_path, payload):
    from peprep.practice.transfer import import_progress, read_import

    client.post(f"{client.post('/mock/start', data={'minutes': '15'}, headers=SAME_ORIGIN).headers['location']}/answer",
                data={"turn": "0", "answer": "x"}, headers=SAME_ORIGIN)
    file = tmp_path / "hostile.json"
    file.write_text(json.dumps(hostile_export(app, payload), ensure_ascii=False), encoding="utf-8")
    import_progress(app.state.practice.store, read_import(file))
    session_id = json.loads(file.read_text())["mock_sessions"][0]["id"]
    for path in ("/mock", f"/mock/{session_id}", "/progress", "/review"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.text, f"{path} after import")
    export = client.get("/progress/export")
    assert export.headers["content-type"].startswith("application/json")
    assert export.headers["x-content-type-options"] == "nosniff"
    assert export.headers["content-disposition"].startswith("attachment")
    assert payload in strings(export.json())  # kept as data, character for character
    count("XSS: imported progress files (mock lists, scorecard, progress, export)", 5)


def test_terminal_scorecard_prints_markup_as_text(app, tmp_path):
    """`peprep mock --open` prints answers with rich: its markup in an answer must print as typed."""
    from typer.testing import CliRunner

    from peprep.cli import app as cli
    from peprep.practice.transfer import import_progress, read_import

    payload = PAYLOADS[-1]  # [red]…[/red] [link=…]
    file = tmp_path / "hostile.json"
    file.write_text(json.dumps(hostile_export(app, payload), ensure_ascii=False), encoding="utf-8")
    data = read_import(file)
    from peprep.practice.store import Store

    db = tmp_path / "terminal.sqlite3"
    import_progress(Store(db), data)
    result = CliRunner().invoke(cli, ["mock", "--open", data.mock_sessions[0].id, "--db", str(db),
                                      "--content", str(app.state.site.content.root)])
    assert result.exit_code == 0, result.output
    assert "[red]rich markup[/red]" in result.output.replace("\n", "")
    count("XSS: rich markup in the terminal scorecard")
