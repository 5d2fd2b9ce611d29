"""The app in a real browser: Debian's chromium through Playwright, against the real uvicorn server.

Walks what a candidate does (home -> search 外推 -> a question -> its answer -> one 追问) and checks
that KaTeX typeset the math, that nothing logged an error, and that no request left 127.0.0.1.
Set PEPREP_SCREENSHOTS=DIR to save screenshots of a chapter page and a revealed question there.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from live_server import live_server
from webclient import FIXTURE_CONTENT

from peprep.content.loader import default_content_dir
from peprep.export.pdf import CHROMIUM_ARGS

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; never a downloaded browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"),
]


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Launched by hand, never through pytest-playwright's `browser` fixture (it wants a downloaded browser).
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def fixture_site():
    with live_server(FIXTURE_CONTENT) as (base, _):
        yield base


class Watched:
    """A page that records every request URL and every console error or uncaught exception."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def assert_clean(self):
        assert self.errors == []
        foreign = [u for u in self.requests if urlsplit(u).scheme != "data" and urlsplit(u).hostname != "127.0.0.1"]
        assert foreign == []

    def assert_math_typeset(self):
        page = self.page
        page.wait_for_function("document.querySelectorAll('.math:not([data-typeset])').length === 0")
        assert page.locator(".katex-error").count() == 0
        assert page.locator(".math-error").count() == 0
        assert page.locator(".math").count() == page.locator(".math .katex").count()

    def close(self):
        self.context.close()


def screenshot(page, name: str) -> None:
    if folder := os.environ.get("PEPREP_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def reveal_answer_and_one_followup(page, question_id: str) -> None:
    answer = page.locator(f'[id="answer-{question_id}"]')
    assert answer.is_hidden()
    page.locator("article.question > button.reveal-answer").click()
    assert answer.is_visible()
    next_button = page.locator(f'button.next-followup[aria-controls="followups-{question_id}"]')
    if next_button.count() == 0:
        return
    first = page.locator(f'[id="followups-{question_id}"] > li').first
    assert first.is_hidden()
    next_button.click()
    assert first.is_visible()
    follow_answer = first.locator(".answer").first
    assert follow_answer.is_hidden()
    first.locator("button.reveal-answer").first.click()
    assert follow_answer.is_visible()
    assert "1/" in next_button.inner_text() or next_button.is_hidden()


def test_fixture_walk_search_question_answer_followup(chromium, fixture_site):
    base = fixture_site
    watched = Watched(chromium)
    page = watched.page
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    watched.assert_math_typeset()  # the chapter summary has math

    page.fill(".nav-search input[name=q]", "外推")
    page.press(".nav-search input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("li.hit").count() >= 3
    page.locator('li.hit-question a.hit-title[href="/questions/extrapolation.q.what"]').click()
    page.wait_for_url("**/questions/extrapolation.q.what")

    reveal_answer_and_one_followup(page, "extrapolation.q.what")
    watched.assert_math_typeset()
    assert page.locator('[id="answer-extrapolation.q.what"] .katex').count() >= 2
    screenshot(page, "fixture-question.png")
    watched.assert_clean()
    watched.close()


def test_fixture_nested_followups_and_anchor_opening(chromium, fixture_site):
    base = fixture_site
    watched = Watched(chromium)
    page = watched.page
    page.goto(base + "/questions/basics.q.what-is-pe#basics.q.what-is-pe.why-sin-cos.which-matrix")
    # The anchor opens the chain above the nested follow-up; its own answer stays hidden.
    assert page.locator('[id="basics.q.what-is-pe.why-sin-cos.which-matrix"]').is_visible()
    assert page.locator('[id="answer-basics.q.what-is-pe.why-sin-cos.which-matrix"]').is_hidden()
    assert page.locator('[id="basics.q.what-is-pe.extrapolates"]').is_hidden()
    page.locator("button.reveal-all").click()
    assert page.locator('[id="answer-basics.q.what-is-pe.why-sin-cos.which-matrix"]').is_visible()
    assert page.locator('[id="basics.q.what-is-pe.extrapolates"]').is_visible()
    assert page.locator("button.next-followup:visible").count() == 0
    watched.assert_math_typeset()
    watched.assert_clean()
    watched.close()


def test_fixture_bad_formula_shows_tex_and_the_page_survives(chromium, fixture_site):
    base = fixture_site
    watched = Watched(chromium)
    page = watched.page
    page.goto(base + "/kp/extrapolation.broken-formula")
    page.wait_for_function("document.querySelectorAll('.math:not([data-typeset])').length === 0")
    broken = page.locator(".math-error")
    assert broken.count() == 1 and broken.inner_text() == r"\frac{1}{"
    assert page.locator(".kp-body .katex").count() == 1  # the good formula beside it
    assert "之后的文字仍然显示" in page.locator(".kp-body").inner_text()
    watched.assert_clean()
    watched.close()


def test_fixture_htmx_live_search_and_filters(chromium, fixture_site):
    base = fixture_site
    watched = Watched(chromium)
    page = watched.page
    page.goto(base + "/search")
    page.locator(".search-form input[name=q]").press_sequentially("外推")
    page.wait_for_selector("#search-results li.hit")
    assert "q=%E5%A4%96%E6%8E%A8" in page.url  # hx-push-url kept the search linkable

    page.goto(base + "/questions")
    assert page.locator(".question-item").count() == 3
    page.select_option("select[name=difficulty]", "3")
    page.wait_for_function("document.querySelectorAll('.question-item').length === 1")
    assert "difficulty=3" in page.url
    watched.assert_clean()
    watched.close()


def test_fixture_chapter_page_screenshot(chromium, fixture_site):
    base = fixture_site
    watched = Watched(chromium)
    page = watched.page
    page.goto(base + "/chapters/basics")
    watched.assert_math_typeset()
    assert page.locator(".kp-figure img").evaluate("img => img.naturalWidth") > 0
    assert page.locator("details.test-listing").count() == 2
    screenshot(page, "fixture-chapter.png")
    watched.assert_clean()
    watched.close()


def test_fixture_without_javascript_everything_is_shown(chromium, fixture_site):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(fixture_site + "/questions/basics.q.what-is-pe")
    # noscript.css shows every answer and 追问 and hides the buttons that would need JavaScript.
    assert page.locator('[id="answer-basics.q.what-is-pe.why-sin-cos.which-matrix"]').is_visible()
    assert page.locator("button.reveal-answer:visible, button.next-followup:visible").count() == 0
    page.goto(fixture_site + "/questions?difficulty=3")  # the filter form is a plain GET
    assert page.locator(".question-item").count() == 1
    context.close()


def test_real_content_walk(chromium):
    """The same walk over the real content, asserting structure only (the content keeps growing)."""
    with live_server(default_content_dir()) as (base, _):
        watched = Watched(chromium)
        page = watched.page
        page.goto(base + "/")
        watched.assert_math_typeset()
        page.fill(".nav-search input[name=q]", "外推")
        page.press(".nav-search input[name=q]", "Enter")
        page.wait_for_url("**/search?q=*")
        question_hits = page.locator("li.hit-question a.hit-title")
        if question_hits.count():
            question_hits.first.click()
        else:
            page.goto(base + "/questions")
            page.locator("a.question-link").first.click()
        page.wait_for_url("**/questions/*")
        question_id = page.locator("article.question").get_attribute("id")
        reveal_answer_and_one_followup(page, question_id)
        watched.assert_math_typeset()
        screenshot(page, "real-question.png")

        first_chapter = page.locator(".breadcrumbs a").nth(2).get_attribute("href").split("=", 1)[1]
        page.goto(f"{base}/chapters/{first_chapter}")
        watched.assert_math_typeset()
        screenshot(page, "real-chapter.png")
        watched.assert_clean()
        watched.close()
