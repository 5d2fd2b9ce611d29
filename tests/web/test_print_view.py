"""/print: the whole handbook on one page, as `peprep export pdf` prints it."""

from __future__ import annotations

import pytest
from webclient import FIXTURE_CONTENT, html, texts

from peprep.content.loader import load_content
from peprep.export.version import content_version


@pytest.fixture(scope="module")
def page(client):
    response = client.get("/print")
    assert response.status_code == 200
    return html(response)


def test_cover_is_stamped_with_the_content_version_and_date(page):
    version = content_version(FIXTURE_CONTENT)
    assert texts(page, ".cover-stamp .content-version") == [version.digest]
    assert version.date in page.css_first(".cover-stamp").text()
    assert page.css_first("html").attributes["lang"] == "zh-CN"


def test_every_chapter_is_a_section_with_its_kps_and_questions(page):
    content = load_content(FIXTURE_CONTENT)
    assert [s.attributes["id"] for s in page.css("section.print-chapter:not(.print-glossary)")] == \
        [f"chapter-{c.id}" for c in content.chapters]
    assert {a.attributes["id"] for a in page.css("article.print-kp")} == {kp.id for kp in content.knowledge_points()}
    assert {a.attributes["id"] for a in page.css("article.print-question")} == {q.id for q in content.questions()}


def test_answers_and_followups_are_shown_not_hidden(page):
    assert page.css("[hidden]") == [] and page.css("button") == []
    assert len(page.css(".print-answer")) == len(page.css("article.print-question"))
    assert page.css(".print-followup")


def test_contents_links_land_on_the_page(page):
    ids = {node.attributes["id"] for node in page.css("[id]")}
    links = [a.attributes["href"] for a in page.css(".print-toc a, .grounding a, .kp-meta a")]
    assert links and all(href.startswith("#") and href[1:] in ids for href in links)


def test_figures_have_numbered_captions(page):
    captions = texts(page, ".kp-figure figcaption")
    assert captions and all(caption.startswith("图 ") for caption in captions)


def test_math_is_left_for_katex_and_print_css_is_loaded(page):
    assert page.css(".math") and page.css_first('link[href="/static/print.css"]') is not None
    assert page.css_first('script[src="/static/app.js"]') is not None


def test_unknown_parameter_is_a_400(client):
    assert client.get("/print?chapter=rope").status_code == 400
