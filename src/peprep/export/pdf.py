"""`peprep export pdf`: the web app's print view (`/print`), printed by headless Chromium.

The PDF is the app's own page, so Chinese is set in the same fonts (Noto Sans CJK SC) and formulas by
the same vendored KaTeX as in the browser. Steps: serve the app on a free 127.0.0.1 port in a thread
(its guard and all), open `/print` in Debian's Chromium through Playwright, wait until every formula is
typeset and the fonts are loaded, then `page.pdf`. Chromium must be the system binary
(`executable_path`): Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from peprep.content.schema import Content
from peprep.export.output import ExportError, ExportResult, Progress, absolute, atomic_file, no_progress

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CJK_FONT = "Noto Sans CJK SC"
INSTALL_FIX = ("install Debian's chromium (sudo apt-get install chromium; bin/setup does it), "
               "or set PEPREP_CHROMIUM to a Chromium binary")

# Ready to print: no formula left untypeset (app.js marks each with data-typeset) and fonts loaded.
READY = """() => window.katex !== undefined
    && document.querySelectorAll('.math:not([data-typeset])').length === 0
    && document.fonts.status === 'loaded'"""


def wait_until_ready(page, timeout_s: float) -> None:
    """Poll READY from Python: `page.wait_for_function` evaluates with eval(), which the app's CSP forbids."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(READY):
        if time.monotonic() > deadline:
            raise ExportError(f"the formulas were not typeset within {timeout_s:.0f} s",
                              "open /print in `peprep serve` and look for errors in the browser console")
        time.sleep(0.05)


def find_chromium() -> str:
    """The Chromium binary: $PEPREP_CHROMIUM, else the first of CHROMIUM_CANDIDATES on PATH."""
    if configured := os.environ.get("PEPREP_CHROMIUM"):
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ExportError(f"PEPREP_CHROMIUM={configured} is not an executable file", INSTALL_FIX)
    for name in CHROMIUM_CANDIDATES:
        if found := shutil.which(name):
            return found
    raise ExportError("Chromium was not found (looked for " + ", ".join(CHROMIUM_CANDIDATES) + " on PATH)", INSTALL_FIX)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(content: Content) -> Iterator[str]:
    """The web app for `content` on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    from peprep.web.app import create_app

    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(content.root), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="peprep-print-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ExportError("the print server did not start", "run `peprep serve` to see why")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def check_cjk_font() -> None:
    """Without a CJK font Chromium prints boxes (tofu) for every Chinese character: refuse instead."""
    try:
        families = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return  # no fontconfig tools to ask; Chromium may still find the font
    if CJK_FONT not in families:
        raise ExportError(f"the font {CJK_FONT} is not installed, so Chinese would print as empty boxes",
                          "install Debian's fonts-noto-cjk (sudo apt-get install fonts-noto-cjk; bin/setup does it)")


def print_page(url: str, out: Path, chromium: str, progress: Progress = no_progress, timeout_s: float = 300) -> list[str]:
    """Print `url` to `out` with Chromium; returns every URL the page requested.

    Requests that leave 127.0.0.1 are aborted: the handbook is offline, and a stray one would hang.
    """
    try:
        from playwright.sync_api import Error as PlaywrightError, sync_playwright
    except ImportError:
        raise ExportError("the Python package playwright is missing", "run bin/setup (pip install playwright)") from None
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            raise ExportError(f"Chromium at {chromium} did not start: {str(exc).splitlines()[0]}", INSTALL_FIX) from None
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_s * 1000)
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.route(lambda u: urlsplit(u).hostname != "127.0.0.1", lambda route: route.abort())
            progress(0.3, "打开打印视图")
            response = page.goto(url, wait_until="load")
            if response is None or not response.ok:
                raise ExportError(f"the print view answered {response.status if response else 'nothing'}",
                                  "open /print in `peprep serve` to see the error")
            progress(0.5, "排版公式")
            wait_until_ready(page, timeout_s)
            page.emulate_media(media="print")
            progress(0.7, "打印 PDF（整本手册约需一分钟）")
            # Page size, margins and page numbers come from print.css (@page); the tagged PDF carries
            # the outline (bookmarks for chapters, KPs and questions) that Chromium builds from headings.
            page.pdf(path=str(out), print_background=True, prefer_css_page_size=True, outline=True, tagged=True)
            return requested
        finally:
            browser.close()


def export_pdf(content: Content, out: Path, progress: Progress = no_progress) -> ExportResult:
    started = time.perf_counter()
    chromium = find_chromium()
    check_cjk_font()
    with atomic_file(out) as temporary:
        progress(0.05, "启动本地服务")
        with serving(content) as base:
            print_page(f"{base}/print", temporary, chromium, progress)
        pages = count_pages(temporary)
    final = absolute(out)
    progress(1.0, "完成")
    return ExportResult(final, final.stat().st_size, time.perf_counter() - started, pages, "pages")


def count_pages(pdf: Path) -> int:
    """Page objects in a PDF Chromium wrote (it writes them uncompressed: `/Type /Page`)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))
