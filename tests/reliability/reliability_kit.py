"""What the reliability tests share (imported by name; conftest.py puts this folder on sys.path):
hostile payloads, a checker that a page's HTML is inert, a copy of the web fixture content, and the
`TRIED` counter of bad inputs per class that conftest prints at the end of the run.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

FIXTURE_CONTENT = Path(__file__).resolve().parents[1] / "web" / "fixtures" / "content"
BASE = "http://127.0.0.1:8000"
SAME_ORIGIN = {"Origin": BASE}
TRIED: Counter = Counter()  # class of bad input or fault -> how many were tried
PAYLOADS = [
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "javascript:alert(3)",
    "<a href=\"javascript:alert(4)\">点我</a>",
    "{{ 7*7 }}{% print('x') %}",  # template injection: must stay literal
    "<iframe src=//evil.example></iframe>",
    "$<script>alert(5)</script>$ \\(x\\)",  # inside math delimiters
    "<base href=//evil.example/><meta http-equiv=refresh content=0;url=//evil.example>",
    "[red]rich markup[/red] [link=https://evil.example]x[/link]",
]
EVIL_TAGS = ("iframe", "object", "embed", "base", "frame", "frameset", "applet")
URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "poster")


def copy_fixture(dest: Path) -> Path:
    shutil.copytree(FIXTURE_CONTENT, dest)
    return dest


def count(kind: str, n: int = 1) -> None:
    TRIED[kind] += n


def assert_inert(text: str, where: str = "") -> None:
    """No script the app did not ship, no event handler, no javascript: URL, no frame, no <base>."""
    tree = LexborHTMLParser(text)
    for script in tree.css("script"):
        src = script.attributes.get("src") or ""
        assert src.startswith("/static/") and not (script.text() or "").strip(), f"{where}: script {script.html[:120]}"
    for tag in EVIL_TAGS:
        assert not tree.css(tag), f"{where}: <{tag}> in the page"
    for meta in tree.css("meta[http-equiv]"):
        assert meta.attributes["http-equiv"].lower() != "refresh", f"{where}: meta refresh"
    for node in tree.css("*"):
        for name, value in node.attributes.items():
            assert not name.lower().startswith("on"), f"{where}: {name}= on <{node.tag}>"
            if name.lower() in URL_ATTRS and value:
                squashed = "".join(value.split()).lower()
                assert not squashed.startswith(("javascript:", "vbscript:", "data:text/html")), f"{where}: {name}={value!r}"
    assert "alert(" not in "".join(s.text() or "" for s in tree.css("script")), where


def assert_no_trace(response) -> None:
    """Never a 5xx, never a Python traceback in the body."""
    assert response.status_code < 500, (response.status_code, response.request.url)
    assert "Traceback (most recent call last)" not in response.text


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send bytes as they are (no client normalises the path) and read the answer: (reply, seconds)."""
    import socket
    import time

    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except OSError:  # the server may answer and close before a large body is sent
            pass
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return reply, time.perf_counter() - started


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
