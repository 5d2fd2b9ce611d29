"""The perimeter: loopback Host only, no cross-origin writes, capped sizes, security headers."""

import pytest
from fastapi.testclient import TestClient
from webclient import FIXTURE_CONTENT

from peprep.web.app import create_app
from peprep.web.guard import CONTENT_SECURITY_POLICY, MAX_BODY_BYTES, refusal


@pytest.fixture(scope="module")
def app():
    return create_app(FIXTURE_CONTENT)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost", "localhost:1", "LOCALHOST:65535", "[::1]", "[::1]:8000"])
def test_loopback_hosts_are_served(app, host):
    assert TestClient(app, base_url=f"http://{host}").get("/").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example:8000", "10.0.0.1:8000", "testserver", "127.0.0.2", "[::2]:8000", "localhost:8000@evil"])
def test_foreign_hosts_are_refused(app, host):
    response = TestClient(app).get("/", headers={"Host": host})
    assert response.status_code == 400
    assert "Host" in response.text and "<script" not in response.text


def test_cross_origin_post_is_403(app):
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/page"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://127.0.0.1:9999"}, {"Origin": "null"},
                    {"Origin": "http://evil.example", "Referer": "http://127.0.0.1:8000/"}):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert client.request(method, "/questions", headers=headers).status_code == 403, (method, headers)


def test_same_origin_post_passes_the_guard(app):
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    for headers in ({"Origin": "http://127.0.0.1:8000"}, {"Sec-Fetch-Site": "same-origin"}, {}):
        # No view takes POST yet: the guard lets it through and the router answers 405.
        assert client.post("/questions", headers=headers).status_code == 405


def test_cross_origin_get_is_allowed(app):
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    assert client.get("/", headers={"Origin": "http://evil.example"}).status_code == 200


def test_request_body_is_capped(app):
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    response = client.post("/questions", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413


def test_streamed_body_without_length_is_capped(app):
    client = TestClient(app, base_url="http://127.0.0.1:8000")

    def chunks():
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b"x" * 1024

    # /questions does not read a body, so use a route that would: the router rejects POST with 405
    # before reading, which is also fine — the cap must never let a 64 KiB+ body reach a view.
    assert client.post("/questions", content=chunks()).status_code in (405, 413)


def test_long_url_is_414(app):
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    assert client.get("/search?q=" + "a" * 3000).status_code == 414


def test_security_headers_on_pages_errors_and_static(app):
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    for path in ("/", "/nope", "/questions?difficulty=9", "/static/app.css"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["server-timing"].startswith("app;dur=")
    refused = TestClient(app).get("/", headers={"Host": "evil.example"})
    assert refused.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_csp_allows_only_self():
    for directive in CONTENT_SECURITY_POLICY.split("; "):
        sources = directive.split()[1:]
        assert all(s in ("'self'", "'none'", "'unsafe-inline'") for s in sources), directive
        if "'unsafe-inline'" in sources:
            assert directive.startswith("style-src-attr"), "inline scripts or <style> must never be allowed"


def _scope(path, method="GET", headers=()):
    return {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:8000"), *headers]}


@pytest.mark.parametrize("path", ["/static/../pyproject.toml", "/static/..\\pyproject.toml", "/figures/a\x00.svg", "/.."])
def test_decoded_traversal_paths_are_refused_before_routing(path):
    assert refusal(_scope(path))[0] == 400


def test_bad_content_length_is_refused():
    assert refusal(_scope("/", "POST", [(b"content-length", b"abc")]))[0] == 413
