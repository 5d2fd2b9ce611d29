"""Static files: vendored and pinned, offline (no CDN), nothing served from outside the folder."""

import re
from pathlib import Path

import pytest

from peprep import rendering

WEB = Path(rendering.__file__).parent / "web"
STATIC = WEB / "static"
VENDORED = [
    "vendor/katex-0.19.1/katex.min.js",
    "vendor/katex-0.19.1/katex.min.css",
    "vendor/katex-0.19.1/contrib/auto-render.min.js",
    "vendor/katex-0.19.1/fonts/KaTeX_Main-Regular.woff2",
    "vendor/katex-0.19.1/LICENSE",
    "vendor/htmx-2.0.11/htmx.min.js",
    "vendor/htmx-2.0.11/LICENSE",
    "vendor/README.md",
]


@pytest.mark.parametrize("name", VENDORED)
def test_vendored_file_present_and_served(client, name):
    assert (STATIC / name).is_file()
    assert client.get(f"/static/{name}").status_code == 200


def test_pinned_versions_are_the_ones_vendored():
    assert "KaTeX v0.19.1" in (STATIC / "vendor/katex-0.19.1/katex.min.js").read_text()[:2000] or \
        'version:"0.19.1"' in (STATIC / "vendor/katex-0.19.1/katex.min.js").read_text()
    assert 'version:"2.0.11"' in (STATIC / "vendor/htmx-2.0.11/htmx.min.js").read_text()


def test_every_katex_font_the_css_prefers_is_present():
    css = (STATIC / "vendor/katex-0.19.1/katex.min.css").read_text()
    fonts = set(re.findall(r"url\(fonts/([^)]+\.woff2)\)", css))
    assert fonts and all((STATIC / "vendor/katex-0.19.1/fonts" / f).is_file() for f in fonts)


def test_no_remote_urls_in_templates_and_static():
    # XML namespace names (w3.org) are identifiers, never fetched.
    remote = re.compile(r"(?:https?:)?//(?!www\.w3\.org/)[a-z0-9.-]+\.[a-z]{2,}/", re.I)
    offenders = []
    for file in [*WEB.joinpath("templates").rglob("*"), *STATIC.rglob("*")]:
        if file.suffix in {".html", ".css", ".js", ".svg"}:
            text = file.read_text(encoding="utf-8", errors="replace")
            offenders += [f"{file.name}: {m}" for m in remote.findall(text)]
    # Templates may show arXiv links as text the user can click; nothing may be *loaded* from afar.
    assert [o for o in offenders if "arxiv.org" not in o] == []


def test_pygments_css_is_generated_from_the_renderer():
    assert (STATIC / "pygments.css").read_text() == rendering.pygments_css(), (
        "regenerate: python -m peprep.rendering > src/peprep/web/static/pygments.css")


@pytest.mark.parametrize("path", [
    "/static/../pyproject.toml",
    "/static/%2e%2e/pyproject.toml",
    "/static/..%2fpyproject.toml",
    "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/static/..%5c..%5cpyproject.toml",
    "/static/%252e%252e/pyproject.toml",
    "/static/vendor/../../../../pyproject.toml",
    "/static//etc/passwd",
    "/static/%00",
])
def test_static_serves_nothing_outside_its_folder(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert "[build-system]" not in response.text and "root:" not in response.text
