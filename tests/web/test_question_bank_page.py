"""`/questions`: the bank, filtered by chapter, difficulty and tag; htmx gets only the list."""

import pytest
from webclient import html, texts


def ids(response):
    return [li.attributes["data-id"] for li in html(response).css(".question-item")]


def test_all_questions_listed_with_badges(client):
    tree = html(client.get("/questions"))
    assert [li.attributes["data-id"] for li in tree.css(".question-item")] == [
        "basics.q.what-is-pe", "basics.q.hostile", "extrapolation.q.what"]
    first = tree.css_first(".question-item")
    assert first.attributes["data-followups"] == "3"
    assert first.css_first(".difficulty").text(strip=True) == "★☆☆ 基础"
    assert texts(first, ".tag") == ["sinusoidal", "基础"]
    assert texts(tree, ".result-count strong") == ["3"]


@pytest.mark.parametrize("query, expected", [
    ("?chapter=extrapolation", ["extrapolation.q.what"]),
    ("?difficulty=3", ["basics.q.hostile"]),
    ("?tag=外推", ["extrapolation.q.what"]),
    ("?chapter=basics&difficulty=1&tag=sinusoidal", ["basics.q.what-is-pe"]),
    ("?chapter=basics&difficulty=2", []),
    ("?chapter=&difficulty=&tag=", ["basics.q.what-is-pe", "basics.q.hostile", "extrapolation.q.what"]),
    ("?tag=no-such-tag", []),
])
def test_filters(client, query, expected):
    response = client.get("/questions" + query)
    assert response.status_code == 200
    assert ids(response) == expected


def test_filter_form_keeps_choices_and_works_without_js(client):
    tree = html(client.get("/questions?chapter=basics&difficulty=1"))
    form = tree.css_first("form.filters")
    assert form.attributes["action"] == "/questions" and form.attributes["method"] == "get"
    assert form.css_first("button[type=submit]") is not None
    assert form.css_first('select[name=chapter] option[selected]').attributes["value"] == "basics"
    assert form.css_first('select[name=difficulty] option[selected]').attributes["value"] == "1"
    assert form.attributes["hx-get"] == "/questions"


def test_htmx_request_gets_only_the_list(client):
    response = client.get("/questions?difficulty=2", headers={"HX-Request": "true"})
    assert "<html" not in response.text
    tree = html(response)
    assert tree.css_first("#question-list") is not None and ids(response) == ["extrapolation.q.what"]
    assert "HX-Request" in response.headers["vary"]


def test_htmx_history_restore_gets_the_whole_page(client):
    response = client.get("/questions", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.text


@pytest.mark.parametrize("query, names", [
    ("?difficulty=abc", "difficulty"),
    ("?difficulty=9", "difficulty"),
    ("?difficulty=２", "difficulty"),
    ("?chapter=nope", "chapter"),
    ("?sort=new", "sort"),
    ("?tag=a&tag=b", "tag"),
    ("?tag=" + "x" * 201, "tag"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, query, names):
    response = client.get("/questions" + query)
    assert response.status_code == 400
    message = html(response).css_first(".error-message").text()
    assert f"「{names}」" in message


def test_unknown_parameter_lists_allowed_ones(client):
    message = html(client.get("/questions?sort=new")).css_first(".error-message").text()
    assert "chapter、difficulty、tag" in message


def test_real_bank_lists_every_question(real_client):
    from peprep.content.loader import default_content_dir, load_content

    content = load_content(default_content_dir())
    assert ids(real_client.get("/questions")) == [q.id for q in content.questions()]
    for chapter in content.chapters:
        assert ids(real_client.get(f"/questions?chapter={chapter.id}")) == [q.id for q in chapter.questions]


@pytest.mark.parametrize("tag", ['"', "<script>alert(1)</script>", "NEAR(", "🙂", "外推 AND"])
def test_odd_tags_are_escaped_and_find_nothing(client, tag):
    response = client.get("/questions", params={"tag": tag})
    assert response.status_code == 200 and ids(response) == []
    assert "<script>alert(1)" not in response.text
    selected = html(response).css_first("select[name=tag] option[selected]")
    assert selected.attributes["value"] == tag
