"""Every internal link reachable from home (depth 3) answers: no 404, no 500."""

from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from webclient import FIXTURE_CONTENT, client_for, html

from peprep.content.loader import default_content_dir


def crawl(client, start="/", depth=3) -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = deque([(start, 0)])
    while queue:
        url, level = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if level == depth or not response.headers["content-type"].startswith("text/html"):
            continue
        tree = html(response)
        for node in tree.css("a[href], link[href], script[src], img[src]"):
            target = urldefrag(node.attributes.get("href") or node.attributes.get("src"))[0]
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not target.startswith("/"):
                continue  # external (arXiv) links are shown, never followed or fetched
            queue.append((target, level + 1))
    return seen


@pytest.mark.parametrize("content_dir", [FIXTURE_CONTENT, default_content_dir()], ids=["fixture", "real"])
def test_no_internal_link_is_broken(content_dir):
    seen = crawl(client_for(content_dir))
    broken = {url: status for url, status in seen.items() if status != 200}
    assert not broken
    assert len(seen) > 10


def test_fixture_crawl_reaches_every_page_kind():
    seen = crawl(client_for(FIXTURE_CONTENT))
    for expected in ("/chapters/basics", "/kp/basics.sinusoidal", "/questions/extrapolation.q.what",
                     "/glossary", "/questions?chapter=basics", "/figures/wavelengths.svg",
                     "/static/vendor/katex-0.19.1/katex.min.js", "/static/vendor/htmx-2.0.11/htmx.min.js"):
        assert expected in seen
