"""The three downloads on the home page: POST starts an export, the status polls until the path and
size, the file downloads; the guard's same-origin rule covers the POST."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from webclient import BASE_URL, html

from peprep.web.export_jobs import KINDS

SAME_ORIGIN = {"Origin": BASE_URL}
HTMX = {**SAME_ORIGIN, "HX-Request": "true"}


@pytest.fixture
def export_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PEPREP_EXPORT_DIR", str(tmp_path / "exports"))
    return tmp_path / "exports"


def finished(client, fragment: str, timeout: float = 60) -> "html":
    """Follow a status fragment's polling (hx-get) until it stops polling."""
    deadline = time.monotonic() + timeout
    tree = html_fragment(fragment)
    while (poll := tree.css_first("[hx-get]")) is not None:
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.05)
        response = client.get(poll.attributes["hx-get"], headers={"HX-Request": "true"})
        assert response.status_code == 200
        tree = html_fragment(response.text)
    return tree


def html_fragment(text: str):
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser(text)


def test_home_offers_the_three_downloads(client):
    page = html(client.get("/"))
    forms = page.css("#downloads form")
    assert [f.attributes["action"] for f in forms] == ["/exports/anki", "/exports/markdown", "/exports/pdf"]
    assert all(f.attributes["method"] == "post" and f.attributes["hx-post"] == f.attributes["action"] for f in forms)
    assert [f.css_first("button").text() for f in forms] == [f"导出 {label}" for label in KINDS.values()]


def test_anki_export_polls_then_shows_path_size_and_downloads(client, export_dir):
    response = client.post("/exports/anki", headers=HTMX)
    assert response.status_code == 202
    done = finished(client, response.text)
    path = done.css_first(".export-path").text()
    assert path == str(export_dir / "peprep.apkg") and "KiB" in done.css_first(".export-size").text()
    download = client.get(done.css_first("a.button").attributes["href"])
    assert download.status_code == 200 and download.content == (export_dir / "peprep.apkg").read_bytes()
    assert 'filename="peprep.apkg"' in download.headers["content-disposition"]


def test_markdown_export_downloads_as_a_zip(client, export_dir):
    done = finished(client, client.post("/exports/markdown", headers=HTMX).text)
    download = client.get(done.css_first("a.button").attributes["href"])
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert "peprep-handbook/README.md" in names and (export_dir / "peprep-handbook" / "README.md").is_file()


def test_without_javascript_the_post_redirects_to_a_status_page(client, export_dir):
    response = client.post("/exports/anki", headers=SAME_ORIGIN, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/exports/")
    page = html(client.get(response.headers["location"]))
    assert page.css_first("h1").text().startswith("导出") and page.css_first(".export-status") is not None
    finished(client, client.get(response.headers["location"], headers={"HX-Request": "true"}).text)


def test_an_unwritable_export_folder_ends_with_the_error_and_its_fix(client, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PEPREP_EXPORT_DIR", str(blocker / "exports"))
    done = finished(client, client.post("/exports/anki", headers=HTMX).text)
    assert "导出失败" in done.css_first(".export-error").text() and "PEPREP_EXPORT_DIR" in done.css_first(".export-fix").text()
    assert done.css_first("a.button") is None


def test_cross_origin_post_is_refused(client, export_dir):
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        assert client.post("/exports/anki", headers=headers).status_code == 403
    assert not export_dir.exists()


def test_unknown_kind_job_and_unfinished_file_are_404(client):
    assert client.post("/exports/docx", headers=HTMX).status_code == 404
    assert client.get("/exports/no-such-job").status_code == 404
    assert client.get("/exports/no-such-job/file").status_code == 404


@pytest.mark.browser
def test_pdf_export_from_the_home_page(client, export_dir):
    import shutil

    if shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium (bin/setup installs it)")
    done = finished(client, client.post("/exports/pdf", headers=HTMX).text, timeout=120)
    assert done.css_first(".export-error") is None, done.css_first(".export-error").text()
    download = client.get(done.css_first("a.button").attributes["href"])
    assert download.content.startswith(b"%PDF-") and "页" in done.css_first(".export-done").text()
