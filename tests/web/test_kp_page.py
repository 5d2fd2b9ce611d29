"""`/kp/{id}`: the KP alone, and every question and 追问 that cites it."""

from webclient import html, texts


def test_kp_page_shows_the_kp_and_its_citations(client):
    tree = html(client.get("/kp/basics.sinusoidal"))
    assert tree.css_first("h1.kp-title").text(strip=True) == "正弦位置编码（Sinusoidal Positional Encoding）"
    links = [a.attributes["href"] for a in tree.css(".citations a")]
    assert links == [
        "/questions/basics.q.what-is-pe",
        "/questions/basics.q.what-is-pe#basics.q.what-is-pe.why-sin-cos",
        "/questions/basics.q.what-is-pe#basics.q.what-is-pe.why-sin-cos.which-matrix",
        "/questions/basics.q.what-is-pe#basics.q.what-is-pe.extrapolates",
    ]
    assert texts(tree, ".citation .badge.kind") == ["面试题", "追问", "追问", "追问"]


def test_kp_cited_from_another_chapter(client):
    tree = html(client.get("/kp/extrapolation.definition"))
    hrefs = [a.attributes["href"] for a in tree.css(".citations a")]
    assert "/questions/basics.q.what-is-pe#basics.q.what-is-pe.extrapolates" in hrefs
    assert "/questions/extrapolation.q.what" in hrefs
    crumbs = [a.attributes["href"] for a in tree.css(".breadcrumbs a")]
    assert crumbs == ["/", "/chapters/extrapolation"]


def test_uncited_kp_says_so(client):
    tree = html(client.get("/kp/extrapolation.broken-formula"))
    assert tree.css_first(".cited-by .empty") is not None


def test_unknown_kp_is_404(client):
    response = client.get("/kp/basics.nope")
    assert response.status_code == 404
    assert "basics.nope" in html(response).css_first(".error-message").text()


def test_every_real_kp_has_a_page(real_client):
    from peprep.content.loader import default_content_dir, load_content

    for kp in load_content(default_content_dir()).knowledge_points():
        tree = html(real_client.get(f"/kp/{kp.id}"))
        assert tree.css_first("article.kp").attributes["id"] == kp.id
