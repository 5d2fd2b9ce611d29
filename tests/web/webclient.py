"""What the web tests share: in-process clients and parsed-HTML helpers (imported by name)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from peprep.web.app import create_app

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CONTENT = FIXTURES / "content"
BASE_URL = "http://127.0.0.1:8000"


def client_for(content_dir: Path) -> TestClient:
    # The guard refuses TestClient's default Host ("testserver"), as it would any foreign host.
    return TestClient(create_app(content_dir), base_url=BASE_URL)


def html(response) -> HTMLParser:
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    return HTMLParser(response.text)


def texts(tree: HTMLParser, selector: str) -> list[str]:
    return [node.text(strip=True) for node in tree.css(selector)]
