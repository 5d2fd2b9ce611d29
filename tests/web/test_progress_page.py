"""`/progress`: per-chapter counts, forecast, retention and weakest KPs; `/progress/export` downloads JSON."""

from __future__ import annotations

import json

from practice_client import practice_client
from webclient import html, texts

from peprep.practice.transfer import export_progress
from peprep.practice.store import Store


def rate(client, rating: str, query: str = "") -> None:
    page = html(client.get("/review" + query))
    form = {n.attributes["name"]: n.attributes["value"] for n in page.css(".rating-form input[type=hidden]")}
    assert client.post("/review/rate", data={**form, "rating": rating}).status_code == 303


def test_an_empty_store_shows_every_card_new(tmp_path):
    client, _ = practice_client(tmp_path / "p.sqlite3")
    page = html(client.get("/progress"))
    rows = {r.attributes["data-chapter"]: [td.text() for td in r.css("td")][1:6] for r in page.css("tr[data-chapter]")}
    assert rows == {"basics": ["5", "5", "0", "0", "0"], "extrapolation": ["2", "2", "0", "0", "0"]}
    assert len(page.css(".forecast li")) == 14 and "还没有数据" in page.text()


def test_progress_after_reviews(tmp_path):
    client, clock = practice_client(tmp_path / "p.sqlite3")
    rate(client, "1", "?chapter=extrapolation")
    rate(client, "4", "?chapter=extrapolation&followups=0")  # the Again comes back (learn ahead): Easy
    rate(client, "3")
    page = html(client.get("/progress"))
    rows = {r.attributes["data-chapter"]: [td.text() for td in r.css("td")][1:6] for r in page.css("tr[data-chapter]")}
    assert rows["extrapolation"] == ["2", "1", "1", "0", "0"]
    assert rows["basics"] == ["5", "4", "1", "0", "0"]
    assert texts(page, ".forecast .n")[0] == "1"  # basics' Good is due again in 10 minutes: today
    assert [a.attributes["href"] for a in page.css(".weak-kps a")][0] == "/kp/extrapolation.definition"


def test_export_downloads_the_same_json_as_the_cli(tmp_path):
    db = tmp_path / "p.sqlite3"
    client, clock = practice_client(db)
    rate(client, "3")
    response = client.get("/progress/export")
    assert response.headers["content-disposition"] == 'attachment; filename="peprep-progress-20261204.json"'
    assert json.loads(response.text) == export_progress(Store(db), clock())
