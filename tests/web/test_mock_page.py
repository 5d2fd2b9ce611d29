"""`/mock`: start, answer (typed or aloud), tick key points, drill down or move on, scorecard."""

from __future__ import annotations

import pytest
from practice_client import practice_client
from webclient import html, texts

from peprep.practice.scheduler import Rating
from peprep.practice.store import Store


@pytest.fixture
def setup(tmp_path):
    client, clock = practice_client(tmp_path / "progress.sqlite3")
    return client, clock, tmp_path / "progress.sqlite3"


def start(client, **data) -> str:
    response = client.post("/mock/start", data={"minutes": "15", **data})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_start_form_offers_durations_and_chapters(setup):
    client, _, _ = setup
    page = html(client.get("/mock"))
    assert [i.attributes["value"] for i in page.css("input[name=minutes]")] == ["15", "30", "45"]
    assert [i.attributes["value"] for i in page.css("input[name=chapter]")] == ["basics", "extrapolation"]
    assert page.css_first("form.mock-start").attributes["method"] == "post"
    assert "还没有模拟面试记录" in page.text()


def test_a_short_interview_drills_down_moves_on_and_ends_with_a_scorecard(setup):
    client, clock, db = setup
    url = start(client, chapter="basics")
    page = html(client.get(url))
    assert "什么是位置编码" in page.css_first(".mock-question").text()
    assert page.css_first(".mock-timer").attributes["data-remaining"] == "900"
    assert page.css_first(".mock-move").text() == "第一题"

    clock.advance(seconds=40)
    client.post(url + "/answer", data={"turn": "0", "answer": "用正弦余弦，<b>粗</b>"})
    page = html(client.get(url))
    assert texts(page, ".typed-answer mark") == ["正弦余弦"]  # the key point it literally mentions
    assert "<b>粗</b>" in page.css_first(".typed-answer").text()  # shown as text, never as markup
    boxes = page.css("input[name=tick]")
    assert [("checked" in b.attributes) for b in boxes] == [False, True]  # pre-ticked where mentioned

    assert client.post(url + "/grade", data={"turn": "0", "tick": ["0", "1"]}).status_code == 303
    page = html(client.get(url))
    assert page.css_first(".mock-move").text() == "追问"  # a good answer: deeper
    assert "为什么同时用" in page.css_first(".mock-question").text()
    assert "什么是位置编码" in page.css_first(".chain-context").text()

    clock.advance(seconds=20)
    client.post(url + "/answer", data={"turn": "1", "answer": "ignored", "aloud": "1"})
    client.post(url + "/grade", data={"turn": "1"})  # nothing ticked: a poor answer, nothing easier -> next
    page = html(client.get(url))
    assert page.css_first(".mock-move").text() == "下一题"

    client.post(url + "/stop")
    page = html(client.get(url))
    assert page.css_first("h1").text() == "成绩单"
    assert page.css_first(".mean-score").text() == "50%"
    assert texts(page, ".score-row .score-badge") == ["2/2", "0/1"]
    assert "（口头回答）" in page.css_first("#turn-2 .your-answer").text()
    assert [a.attributes["href"] for a in page.css(".weak-kps a")] == ["/kp/basics.sinusoidal"]
    assert "0:40" in page.css_first("#turn-1 .meta").text()
    assert [(r.card_id, r.source, r.rating) for r in Store(db).reviews()] == [
        ("basics.q.what-is-pe", "mock", Rating.Good), ("basics.q.what-is-pe.why-sin-cos", "mock", Rating.Again)]
    listing = html(client.get("/mock"))
    assert listing.css_first(".mock-list a").attributes["href"] == url


def test_stale_forms_change_nothing(setup):
    client, _, db = setup
    url = start(client)
    client.post(url + "/answer", data={"turn": "0", "answer": "a"})
    client.post(url + "/answer", data={"turn": "0", "answer": "b"})  # posted twice
    client.post(url + "/grade", data={"turn": "0", "tick": "0"})
    assert client.post(url + "/grade", data={"turn": "0", "tick": "0"}).status_code == 303
    assert len(Store(db).reviews()) == 1


@pytest.mark.parametrize("data", [{"minutes": "20"}, {"minutes": "x"}, {"chapter": "nope"}])
def test_bad_start_is_a_400(setup, data):
    client, _, _ = setup
    assert client.post("/mock/start", data={"minutes": "15", **data}).status_code == 400


def test_bad_ticks_unknown_session_and_cross_origin(setup):
    client, _, db = setup
    url = start(client)
    client.post(url + "/answer", data={"turn": "0", "answer": "a"})
    assert client.post(url + "/grade", data={"turn": "0", "tick": "9"}).status_code == 400
    assert client.get("/mock/nope").status_code == 404
    assert client.post("/mock/nope/stop").status_code == 404
    assert client.post(url + "/grade", data={"turn": "0"}, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/mock/start", data={"minutes": "15"}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert Store(db).reviews() == []


def test_time_up_ends_after_the_open_answer(setup):
    client, clock, _ = setup
    url = start(client)
    clock.advance(minutes=16)
    assert html(client.get(url)).css_first(".mock-timer").attributes["data-remaining"] == "0"
    client.post(url + "/answer", data={"turn": "0", "answer": "a"})
    client.post(url + "/grade", data={"turn": "0", "tick": "0"})
    page = html(client.get(url))
    assert page.css_first("h1").text() == "成绩单" and "时间到" in page.css_first(".scorecard-summary").text()


def test_a_plain_form_post_as_chromium_sends_it_passes(setup):
    """With `Referrer-Policy: no-referrer`, Chromium posts a same-origin form with `Origin: null`."""
    client, _, _ = setup
    response = client.post("/mock/start", data={"minutes": "15"},
                           headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
