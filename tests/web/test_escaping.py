"""Content cannot inject markup: raw HTML in Markdown, titles and questions is shown as text."""

from webclient import html


def test_script_in_kp_body_and_title_is_text(client):
    for path in ("/chapters/basics", "/kp/basics.hostile"):
        response = client.get(path)
        assert "<script>alert" not in response.text
        assert "<img src=x" not in response.text
        tree = html(response)
        assert not [s for s in tree.css("script") if not s.attributes.get("src")], "no inline scripts"
        assert not tree.css("img[onerror]")
        article = tree.css_first('[id="basics.hostile"]')
        assert '<script>alert("kp-xss")</script>' in article.css_first(".kp-body").text()
        assert '<script>alert("title-xss")</script>' in article.css_first(".kp-title").text()


def test_javascript_links_in_content_are_not_links(client):
    tree = html(client.get("/kp/basics.hostile"))
    assert not [a for a in tree.css("a[href]") if a.attributes["href"].lower().startswith("javascript:")]


def test_script_in_question_and_answer_is_text(client):
    response = client.get("/questions/basics.q.hostile")
    assert "<script>alert" not in response.text
    tree = html(response)
    assert '<script>alert("question-xss")</script>' in tree.css_first("h1.question-text").text()
    assert not tree.css(".answer-text b")


def test_script_in_lists_and_search_is_text(client):
    for path in ("/questions", "/kp/basics.hostile", "/search?q=转义"):
        assert "<script>alert" not in client.get(path).text


def test_reflected_query_is_escaped(client):
    response = client.get("/search", params={"q": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in response.text
    assert html(response).css_first(".search-form input[name=q]").attributes["value"] == '"><script>alert(1)</script>'
