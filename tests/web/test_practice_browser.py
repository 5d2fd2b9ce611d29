"""Practice in a real browser (Debian chromium through Playwright, against the real uvicorn server):
one review with the keyboard (Space reveals, 3 rates, htmx swaps in the next card) and a short mock
interview (typed answer, ticks, a 追问, an answer given aloud, stop, scorecard).

Checks that nothing logged an error and that no request left 127.0.0.1. Set PEPREP_SCREENSHOTS=DIR to
save screenshots of the review card, the grading step, the scorecard and the progress page there.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from live_server import live_server
from webclient import FIXTURE_CONTENT

from peprep.export.pdf import CHROMIUM_ARGS
from peprep.practice.store import Store

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; never a downloaded browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"),
]


@pytest.fixture
def browser_page(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    db = tmp_path / "progress.sqlite3"
    monkeypatch.setenv("PEPREP_DB", str(db))  # the server subprocess inherits it
    with live_server(FIXTURE_CONTENT) as (base, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN", base_url=base)
        page = context.new_page()
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.db = db
        yield page
        assert errors == []
        assert [u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).hostname != "127.0.0.1"] == []
        browser.close()


def screenshot(page, name: str) -> None:
    if folder := os.environ.get("PEPREP_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def typeset(page) -> None:
    page.wait_for_function("document.querySelectorAll('.math:not([data-typeset])').length === 0")
    assert page.locator(".math-error").count() == 0


def test_one_review_with_the_keyboard(browser_page):
    page = browser_page
    page.goto("/review")
    card = page.locator("article.review-item")
    assert card.get_attribute("data-card") == "basics.q.what-is-pe"
    assert page.locator("#review-answer").is_hidden()
    page.locator("#review-card textarea").fill("不同频率的正弦和余弦")
    page.locator("h1").click()  # leave the textarea: keys typed there are text, not commands
    page.keyboard.press(" ")
    assert page.locator("#review-answer").is_visible()
    typeset(page)
    assert page.locator(".rating-buttons button .interval").all_inner_texts() == ["1分钟", "6分钟", "10分钟", "8天"]
    screenshot(page, "review.png")
    page.keyboard.press("3")
    page.wait_for_selector(".review-saved")
    assert "10分钟" in page.locator(".review-saved").inner_text()
    assert card.get_attribute("data-card") == "basics.q.what-is-pe.why-sin-cos"  # htmx swapped in the 追问
    assert page.url.endswith("/review")
    typeset(page)
    (review,) = Store(page.db).reviews()
    assert (review.card_id, int(review.rating)) == ("basics.q.what-is-pe", 3)


def test_a_short_mock_interview(browser_page):
    page = browser_page
    page.goto("/mock")
    page.check("input[name=minutes][value='15']")
    page.check("input[name=chapter][value='basics']")
    page.click("button.start-mock")
    page.wait_for_selector(".mock-question")
    assert page.locator(".mock-timer").inner_text().startswith("剩余 1")  # counting down from 15:00
    page.fill("textarea[name=answer]", "各维用不同频率的正弦余弦")
    page.click("button.submit-answer")
    page.wait_for_selector(".mock-ticks")
    assert page.locator(".typed-answer mark").all_inner_texts() == ["不同频率", "正弦余弦"]
    assert page.locator("input[name=tick]:checked").count() == 2
    typeset(page)
    screenshot(page, "mock-grading.png")
    page.click("button.submit-grade")
    page.wait_for_selector(".mock-answer")
    assert page.locator(".mock-move").inner_text() == "追问"
    page.click("button.answered-aloud")
    page.wait_for_selector(".mock-ticks")
    page.click("button.submit-grade")  # nothing ticked
    page.wait_for_selector(".mock-answer")
    page.click("button.stop-mock")
    page.wait_for_selector(".scorecard-summary")
    assert page.locator(".mean-score").inner_text() == "50%"
    assert page.locator(".score-row").count() == 2
    assert page.locator(".weak-kps a").first.get_attribute("href") == "/kp/basics.sinusoidal"
    typeset(page)
    screenshot(page, "mock-scorecard.png")
    page.goto("/progress")
    assert page.locator("tr[data-chapter=basics] td").nth(3).inner_text() == "2"  # learning: the two answered
    screenshot(page, "progress.png")
