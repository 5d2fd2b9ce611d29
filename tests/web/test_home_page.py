"""`/`: chapters in order with their counts, links to the question bank and glossary."""

from webclient import html, texts


def test_home_lists_chapters_in_order_with_counts(client):
    tree = html(client.get("/"))
    assert tree.css_first("html").attributes["lang"] == "zh-CN"
    cards = tree.css(".chapter-card")
    assert [c.css_first("h3 a").attributes["href"] for c in cards] == ["/chapters/basics", "/chapters/extrapolation"]
    counts = [(c.css_first(".count-kps").text(), c.css_first(".count-questions").text(), c.css_first(".count-followups").text()) for c in cards]
    # basics: 3 追问 (two direct, one nested); extrapolation: one inline and one `ref:` follow-up.
    assert counts == [("2", "2", "3"), ("2", "1", "2")]
    assert texts(tree, ".total-kps") + texts(tree, ".total-questions") + texts(tree, ".total-followups") == ["4", "3", "5"]


def test_home_links_question_bank_glossary_and_search(client):
    tree = html(client.get("/"))
    hrefs = {a.attributes.get("href") for a in tree.css("a")}
    assert {"/questions", "/glossary", "/questions?chapter=basics"} <= hrefs
    form = tree.css_first("form.nav-search")
    assert form.attributes["action"] == "/search" and form.css_first("input").attributes["name"] == "q"


def test_home_renders_chapter_summary_math_as_math_element(client):
    tree = html(client.get("/"))
    summary = tree.css_first("#chapter-basics .chapter-summary")
    assert [m.text() for m in summary.css(".math.math-inline")] == ["p"]


def test_home_over_real_content_has_a_card_per_chapter(real_client):
    from peprep.content.loader import default_content_dir, load_content

    content = load_content(default_content_dir())
    tree = html(real_client.get("/"))
    assert len(tree.css(".chapter-card")) == len(content.chapters)
    assert texts(tree, ".total-questions") == [str(len(content.questions()))]
