"""The drills pages through the in-process client: list, statement, checks, skeleton, hidden solution."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))  # the web tests' shared helpers
from webclient import client_for, html, texts  # noqa: E402

from peprep.content.loader import default_content_dir  # noqa: E402
from peprep.drills import DRILLS  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return client_for(default_content_dir())


def test_nav_links_to_the_drills(client):
    tree = html(client.get("/"))
    assert "/drills" in [a.attributes.get("href") for a in tree.css("nav.site-nav a")]


def test_list_shows_every_drill_with_a_link(client):
    tree = html(client.get("/drills"))
    rows = tree.css("table.drills tr.drill")
    assert [r.attributes["id"] for r in rows] == [f"drill-{d.name}" for d in DRILLS]
    assert [a.attributes["href"] for a in tree.css("td.name a")] == [f"/drills/{d.name}" for d in DRILLS]
    assert texts(tree, "td.check-count") == [str(len(d.checks)) for d in DRILLS]


def test_drill_page_has_statement_checks_skeleton_and_hidden_solution(client):
    tree = html(client.get("/drills/rope-kv-cache"))
    assert "rope_attention_step" in tree.css_first("section.statement").text()
    assert texts(tree, "ol.check-list li code") == ["prefill", "cache-contents", "decode", "chunked-prefill",
                                                   "step-by-step", "long-cache"]
    skeleton = tree.css_first("section.skeleton").text()
    assert "NotImplementedError" in skeleton and "tril(diagonal" not in skeleton  # bodies are not shown
    solution = tree.css_first("#solution-rope-kv-cache")
    assert "hidden" in solution.attributes  # revealed only on request
    assert "tril(diagonal=past)" in solution.text()
    button = tree.css_first("button.reveal-answer")
    assert button.attributes["aria-controls"] == "solution-rope-kv-cache"
    assert "/kp/engineering.kv-cache-rope" in [a.attributes["href"] for a in tree.css("ul.kp-links a")]
    assert tree.css("section.statement .katex, section.statement .math")  # math is rendered (or marked)


def test_every_drill_page_renders(client):
    for drill in DRILLS:
        response = client.get(f"/drills/{drill.name}")
        assert response.status_code == 200, drill.name
        assert drill.title in response.text


def test_unknown_drill_is_a_404(client):
    response = client.get("/drills/no-such-drill")
    assert response.status_code == 404 and "no-such-drill" in response.text
