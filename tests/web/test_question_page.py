"""`/questions/{id}`: the answer and every 追问 are in the page, hidden until asked, in chain order."""

from webclient import html, texts

QID = "basics.q.what-is-pe"


def words(node) -> str:
    return " ".join(node.text().split())


def test_question_header(client):
    tree = html(client.get(f"/questions/{QID}"))
    h1 = tree.css_first("h1.question-text")
    assert h1.css_first(".math-inline").text() == r"\mathrm{Attn}"
    assert tree.css_first(".question .meta .difficulty").text(strip=True) == "★☆☆ 基础"
    assert [a.attributes["href"] for a in tree.css(".question .meta .tag")] == [
        "/questions?tag=sinusoidal", "/questions?tag=%E5%9F%BA%E7%A1%80"]


def test_answer_is_hidden_behind_a_button(client):
    tree = html(client.get(f"/questions/{QID}"))
    answer = tree.css_first(f'[id="answer-{QID}"]')
    assert "hidden" in answer.attributes
    button = tree.css_first("article.question > button.reveal-answer")
    assert button.attributes["aria-controls"] == f"answer-{QID}" and button.text() == "显示答案"
    assert texts(tree, f'[id="answer-{QID}"] > .key-points li') == ["不同频率", "正弦余弦"]
    assert [a.attributes["href"] for a in tree.css(f'[id="answer-{QID}"] > .grounding a')] == ["/kp/basics.sinusoidal"]


def test_followups_in_order_hidden_with_next_button(client):
    tree = html(client.get(f"/questions/{QID}"))
    items = tree.css(f'[id="followups-{QID}"] > li.followup')
    assert [li.attributes["id"] for li in items] == [f"{QID}.why-sin-cos", f"{QID}.extrapolates"]
    assert all("hidden" in li.attributes for li in items)
    button = tree.css_first(f'button.next-followup[aria-controls="followups-{QID}"]')
    assert button.text(strip=True) == "下一个追问（0/2）"


def test_nested_followup_has_its_own_answer_and_chain(client):
    tree = html(client.get(f"/questions/{QID}"))
    first = tree.css_first(f'[id="{QID}.why-sin-cos"]')
    assert words(first.css_first(".followup-question")) == "追问 1 为什么同时用 \\sin 和 \\cos？"
    answer = first.css_first(f'[id="answer-{QID}.why-sin-cos"]')
    assert "hidden" in answer.attributes
    assert answer.css_first(".derivation").text(strip=True) == "如何从知识点推出由和角公式。"
    assert texts(answer, ".key-points li")[:1] == ["和角公式"]
    nested = answer.css(f'[id="followups-{QID}.why-sin-cos"] > li')
    assert [li.attributes["id"] for li in nested] == [f"{QID}.why-sin-cos.which-matrix"]


def test_ref_followup_shows_the_referenced_text_and_links_it(client):
    tree = html(client.get("/questions/extrapolation.q.what"))
    ref = tree.css_first("li.followup-ref")
    assert words(ref.css_first(".followup-question")) == "追问 1 它能外推吗？"
    assert ref.css_first("a.ref-link").attributes["href"] == f"/questions/{QID}#{QID}.extrapolates"
    assert "不能保证" in ref.css_first(".answer-text").text()


def test_followup_full_id_redirects_to_its_anchor(client):
    response = client.get(f"/questions/{QID}.why-sin-cos", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"/questions/{QID}#{QID}.why-sin-cos"


def test_unknown_question_is_404(client):
    response = client.get("/questions/basics.q.nope")
    assert response.status_code == 404
    assert "basics.q.nope" in html(response).css_first(".error-message").text()


def test_every_real_question_renders_its_whole_chain(real_client):
    from peprep.content.loader import default_content_dir, load_content
    from peprep.content.schema import walk_asked

    for question in load_content(default_content_dir()).questions():
        tree = html(real_client.get(f"/questions/{question.id}"))
        for item in walk_asked(question):
            answer = tree.css_first(f'[id="answer-{item.full_id}"]')
            assert answer is not None and "hidden" in answer.attributes, item.full_id
            links = {a.attributes["href"] for a in tree.css(f'[id="answer-{item.full_id}"] > .grounding a')}
            assert links == {f"/kp/{kp}" for kp in item.kp}
