"""`/review`: one card at a time, answer hidden, four rating buttons with their intervals, PRG or htmx."""

from __future__ import annotations

import re

import pytest
from practice_client import practice_client
from webclient import html, texts

from peprep.practice.scheduler import Rating
from peprep.practice.store import Store


@pytest.fixture
def setup(tmp_path):
    client, clock = practice_client(tmp_path / "progress.sqlite3")
    return client, clock, tmp_path / "progress.sqlite3"


def form_of(page) -> dict[str, str]:
    return {node.attributes["name"]: node.attributes["value"] for node in page.css(".rating-form input[type=hidden]")}


def test_first_card_is_shown_with_its_answer_hidden_and_rating_intervals(setup):
    client, _, _ = setup
    response = client.get("/review")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    page = html(response)
    assert page.css_first("article.review-item").attributes["data-card"] == "basics.q.what-is-pe"
    assert "hidden" in page.css_first("#review-answer").attributes
    assert texts(page, ".rating-buttons button .interval") == ["1分钟", "6分钟", "10分钟", "8天"]
    assert [b.attributes["value"] for b in page.css(".rating-buttons button")] == ["1", "2", "3", "4"]
    assert page.css_first(".rating-form").attributes["method"] == "post"
    assert page.css_first(".rating-form").attributes["hx-post"] == "/review/rate"
    assert texts(page, ".review-counts strong")[:2] == ["0", "3"]  # nothing due; 3 questions (追问 wait)


def test_rating_saves_and_redirects_to_the_next_card(setup):
    client, clock, db = setup
    form = form_of(html(client.get("/review")))
    clock.advance(seconds=12)
    response = client.post("/review/rate", data={**form, "rating": "3"})
    assert response.status_code == 303 and response.headers["location"] == "/review"
    (review,) = Store(db).reviews()
    assert (review.card_id, review.rating, review.duration_ms) == ("basics.q.what-is-pe", Rating.Good, 12_000)
    page = html(client.get("/review"))
    # The question's 追问 is unlocked and comes next in bank order, shown with its parent as context.
    assert page.css_first("article.review-item").attributes["data-card"] == "basics.q.what-is-pe.why-sin-cos"
    assert "什么是位置编码" in page.css_first(".chain-context").text()


def test_htmx_rating_answers_with_the_next_card_fragment(setup):
    client, _, _ = setup
    form = form_of(html(client.get("/review")))
    response = client.post("/review/rate", data={**form, "rating": "4"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    page = html(response)
    assert "已保存" in page.css_first(".review-saved").text() and "8天" in page.css_first(".review-saved").text()
    assert page.css_first("article.review-item").attributes["data-card"] != "basics.q.what-is-pe"


def test_a_form_posted_twice_is_one_review(setup):
    client, _, db = setup
    form = form_of(html(client.get("/review")))
    for _ in range(2):
        assert client.post("/review/rate", data={**form, "rating": "3"}).status_code == 303
    assert len(Store(db).reviews()) == 1


def test_filters_travel_through_the_rating(setup):
    client, _, db = setup
    page = html(client.get("/review?chapter=extrapolation&followups=0"))
    assert page.css_first("article.review-item").attributes["data-card"] == "extrapolation.q.what"
    form = form_of(page)
    assert (form["chapter"], form["followups"]) == ("extrapolation", "0")
    response = client.post("/review/rate", data={**form, "rating": "4"})
    assert response.headers["location"] == "/review?chapter=extrapolation&followups=0"
    assert "没有要复习的卡片" in client.get(response.headers["location"]).text


def test_hostile_question_text_is_escaped(setup):
    client, _, _ = setup
    response = client.get("/review?difficulty=3&followups=0")
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.parametrize("change, status", [
    ({"rating": "5"}, 400), ({"rating": "x"}, 400), ({"card_id": "nope.q.nothing"}, 400),
    ({"uid": "not hex!"}, 400), ({"chapter": "nope"}, 400), ({"difficulty": "7"}, 400),
])
def test_bad_form_values_are_a_400_and_save_nothing(setup, change, status):
    client, _, db = setup
    form = {**form_of(html(client.get("/review"))), "rating": "3", **change}
    response = client.post("/review/rate", data=form)
    assert response.status_code == status and "Traceback" not in response.text
    assert Store(db).reviews() == []


def test_bad_query_parameters_are_a_400(setup):
    client, _, _ = setup
    assert client.get("/review?chapter=nope").status_code == 400
    assert client.get("/review?bogus=1").status_code == 400


def test_cross_origin_rating_is_refused(setup):
    client, _, db = setup
    form = {**form_of(html(client.get("/review"))), "rating": "3"}
    assert client.post("/review/rate", data=form, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/review/rate", data=form, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert Store(db).reviews() == []


def test_a_damaged_progress_file_is_a_clear_503_and_the_rest_still_works(tmp_path):
    db = tmp_path / "progress.sqlite3"
    db.write_bytes(b"not a database at all" * 100)
    before = db.read_bytes()
    client, _ = practice_client(db)
    for url in ("/review", "/mock", "/progress"):
        response = client.get(url)
        assert response.status_code == 503 and "left untouched" in response.text, url
        assert re.search(r"progress\.sqlite3", response.text)
    assert client.get("/").status_code == 200
    assert db.read_bytes() == before


def test_nav_links_to_the_practice_pages(setup):
    client, _, _ = setup
    links = [a.attributes["href"] for a in html(client.get("/")).css(".site-nav a")]
    assert {"/review", "/mock", "/progress"} <= set(links)
