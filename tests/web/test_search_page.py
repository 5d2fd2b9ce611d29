"""`/search`: ranked hits with kind badges and safe snippets, did-you-mean, htmx live results."""

import pytest
from webclient import html, texts


def test_search_finds_kp_question_and_glossary(client):
    tree = html(client.get("/search?q=外推"))
    kinds = {li.attributes["class"].split()[1] for li in tree.css("li.hit")}
    assert kinds == {"hit-kp", "hit-question", "hit-glossary"}
    for hit in tree.css("li.hit"):
        assert hit.css_first(".badge.kind").text() in {"知识点", "面试题", "术语"}
        assert hit.css_first("a.hit-title").attributes["href"].startswith(("/kp/", "/questions/", "/glossary#"))
    assert tree.css("li.hit .snippet mark")
    assert tree.css_first(".nav-search input").attributes["value"] == "外推"


def test_kind_filter(client):
    tree = html(client.get("/search?q=外推&kind=question"))
    assert {li.attributes["class"] for li in tree.css("li.hit")} == {"hit hit-question"}


def test_no_hits_offers_did_you_mean(client):
    tree = html(client.get("/search?q=extrapolatoin"))
    assert not tree.css("li.hit")
    link = tree.css_first("a.did-you-mean")
    assert link is not None and link.attributes["href"].startswith("/search?q=")


def test_empty_query_shows_hint(client):
    tree = html(client.get("/search"))
    assert tree.css_first(".search-results .hint") is not None


def test_htmx_live_search_returns_only_results(client):
    response = client.get("/search?q=外推", headers={"HX-Request": "true"})
    assert "<html" not in response.text
    assert html(response).css_first("#search-results li.hit") is not None


@pytest.mark.parametrize("query", ['"', "<script>alert(1)</script>", "NEAR(", "a OR", "*", "🙂🙂", "外推 AND", "'; DROP TABLE docs; --", "{}[]()"])
def test_odd_queries_never_fail_and_are_escaped(client, query):
    response = client.get("/search", params={"q": query})
    assert response.status_code in (200, 400)
    assert "<script>alert(1)</script>" not in response.text
    tree = html(response)
    assert tree.css_first(".search-form input[name=q]").attributes["value"] == query


def test_nul_and_overlong_queries_are_400(client):
    assert client.get("/search?q=%00").status_code == 400
    response = client.get("/search", params={"q": "外" * 201})
    assert response.status_code == 400
    assert "「q」" in html(response).css_first(".error-message").text()


def test_bad_kind_is_400(client):
    response = client.get("/search?q=x&kind=code")
    assert response.status_code == 400 and "「kind」" in response.text


def test_real_search_for_a_glossary_alias_finds_something(real_client):
    from peprep.content.loader import default_content_dir, load_content

    term = load_content(default_content_dir()).glossary[0]
    tree = html(real_client.get("/search", params={"q": term.zh}))
    assert texts(tree, ".result-count strong") and tree.css("li.hit")
