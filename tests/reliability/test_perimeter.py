"""The server's perimeter, route by route: DNS rebinding, CSRF, path traversal, odd ids, size limits.

In-process (TestClient) for breadth, on the wire (raw sockets to the real `peprep serve`) where a client
library would normalise what an attacker sends as it is.
"""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from reliability_kit import BASE, SAME_ORIGIN, assert_no_trace, count, raw_request, status_of

PAGES = ["/", "/chapters/basics", "/kp/basics.hostile", "/questions", "/questions/basics.q.hostile", "/glossary",
         "/search?q=RoPE", "/review", "/mock", "/progress", "/progress/export", "/print", "/drills",
         "/static/app.css", "/figures/wavelengths.svg"]
FOREIGN_HOSTS = ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example:8000",
                 "localhost:8000@evil.example", "127.0.0.2", "127.1", "2130706433", "0x7f000001", "0.0.0.0:8000",
                 "[::2]:8000", "[::ffff:127.0.0.1]", "10.0.0.1:8000", "testserver", "", "localhost:8000 evil",
                 "ｌｏｃａｌｈｏｓｔ", "xn--localhost-", "LOCALHOST.", "localhost:99999999"]
CROSS_ORIGIN = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:9999"},  # another port is another origin
    {"Origin": "https://127.0.0.1:8000"},  # and so is another scheme's host:port? same netloc: see below
    {"Referer": "http://evil.example/page"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is still not us
    {"Origin": "http://evil.example", "Referer": f"{BASE}/"},
    {"Origin": "http://localhost.evil.example:8000"},
]


def same_site_redirect(reply: bytes) -> bool:
    """A 3xx (Starlette's trailing-slash redirect) that stays on this server, serving nothing itself."""
    if status_of(reply) not in (301, 302, 303, 307, 308):
        return False
    location = next((line.split(b":", 1)[1].strip() for line in reply.split(b"\r\n") if line.lower().startswith(b"location:")), b"")
    return location.startswith((b"/", b"http://127.0.0.1:")) and not location.startswith(b"//")


def card_id(app) -> str:
    return next(iter(app.state.practice.bank.items))


def counts(db_path) -> tuple[int, int]:
    with sqlite3.connect(db_path) as conn:
        return (conn.execute("SELECT count(*) FROM reviews").fetchone()[0],
                conn.execute("SELECT count(*) FROM mock_sessions").fetchone()[0])


def start_mock(client) -> str:
    response = client.post("/mock/start", data={"minutes": "15"}, headers=SAME_ORIGIN)
    assert response.status_code == 303
    return response.headers["location"].rsplit("/", 1)[1]


def writes(app, client) -> dict[str, tuple[str, dict]]:
    """Every state-changing route with a valid form."""
    session = start_mock(client)
    rate = {"card_id": card_id(app), "rating": "3", "uid": uuid.uuid4().hex, "shown_at": "0"}
    return {
        "rate": ("/review/rate", rate),
        "mock start": ("/mock/start", {"minutes": "15"}),
        "mock answer": (f"/mock/{session}/answer", {"turn": "0", "answer": "我的回答"}),
        "mock grade": (f"/mock/{session}/grade", {"turn": "0", "tick": "0"}),
        "mock stop": (f"/mock/{session}/stop", {}),
        "export": ("/exports/markdown", {}),
    }


# --- DNS rebinding --------------------------------------------------------------------------------


def test_every_page_answers_on_loopback(client):
    for path in PAGES:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_foreign_host_is_refused_on_every_route_and_method(client, app, host):
    routes = [("GET", p) for p in PAGES] + [("POST", path) for path, _ in writes(app, client).values()]
    for method, path in routes:
        response = client.request(method, path, headers={"Host": host.encode(), **SAME_ORIGIN})
        assert response.status_code == 400, (host, method, path)
        assert "<script" not in response.text
    count("DNS rebinding: foreign Host headers x routes", len(routes))


def test_guard_refuses_hosts_no_client_library_would_send():
    from peprep.web.guard import refusal

    for host in ("localhost\n", "127.0.0.1\r\nX: y", "localhost\x00", "127.0.0.1:80:80", " localhost", "localhost "):
        scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"",
                 "headers": [(b"host", host.encode())]}
        assert refusal(scope) is not None and refusal(scope)[0] == 400, repr(host)
    count("DNS rebinding: malformed Host values", 6)


def test_rebinding_on_the_wire(live):
    _, port, _ = live
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io", f"localhost:{port}.evil.example"):
        reply, _ = raw_request(port, f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        assert status_of(reply) == 400, host
    for request in (b"GET / HTTP/1.0\r\n\r\n",  # no Host at all
                    f"GET / HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode(),
                    b"GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"):
        assert status_of(raw_request(port, request)[0]) == 400, request[:60]
    ok, _ = raw_request(port, f"GET / HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode())
    assert status_of(ok) == 200
    count("DNS rebinding: on the wire", 8)


# --- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", CROSS_ORIGIN, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_cross_origin_writes_are_refused_and_change_nothing(app, client, db_path, headers):
    routes = writes(app, client)
    before = counts(db_path)
    for name, (path, form) in routes.items():
        if headers.get("Origin", "").startswith("https://127.0.0.1:8000"):
            # Same host:port over another scheme: the guard compares host:port only; a page on
            # https://127.0.0.1:8000 would have to be served by this very port, so this is still us.
            continue
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = client.request(method, path, data=form, headers=headers)
            assert response.status_code == 403, (name, method, headers)
        count("CSRF: cross-origin writes", 4)
    assert counts(db_path) == before


def test_same_origin_writes_work(app, client, db_path):
    for headers in (SAME_ORIGIN, {"Sec-Fetch-Site": "same-origin"}, {"Referer": f"{BASE}/review"}, {}):
        routes = writes(app, client)  # starts one mock session
        reviews, sessions = counts(db_path)
        assert client.post(*routes["rate"][:1], data=routes["rate"][1], headers=headers).status_code == 303
        path, form = routes["mock answer"]
        assert client.post(path, data=form, headers=headers).status_code == 303
        assert client.post(routes["mock start"][0], data=routes["mock start"][1], headers=headers).status_code == 303
        after = counts(db_path)
        assert after[0] == reviews + 1 and after[1] == sessions + 1, headers


def test_reads_never_write(client, db_path):
    """GET is safe: crawling every page (twice) leaves the progress file as it was."""
    before = counts(db_path)
    for _ in range(2):
        for path in PAGES:
            client.get(path)
    assert counts(db_path) == before


# --- path traversal and odd ids -------------------------------------------------------------------

TRAVERSALS = [
    "/static/../pyproject.toml", "/static/../../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/..%2f..%2fpyproject.toml", "/static/%2e%2e%2f%2e%2e%2fpyproject.toml", "/static/%252e%252e/app.py",
    "/static/..\\..\\pyproject.toml", "/static/%5c..%5c..%5cpyproject.toml", "/static//etc/passwd",
    "/static/%2fetc%2fpasswd", "/static/..;/..;/etc/passwd", "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/static/vendor/../../app.py", "/static/app.css%00.txt", "/static/./../templates/base.html",
    "/figures/../not-a-figure.txt", "/figures/%2e%2e/not-a-figure.txt", "/figures/..%2fnot-a-figure.txt",
    "/figures//etc/passwd", "/figures/%2fetc%2fpasswd", "/figures/../../../../../../etc/passwd",
    "/figures/outside.svg", "/figures/wavelengths.svg/..", "/figures/wavelengths.svg%00.png",
    "/figures/C:%5cWindows%5cwin.ini", "/figures/~/.ssh/id_rsa", "/figures/%u002e%u002e/x",
]
SECRETS = (b"[build-system]", b"root:x:", b"not a figure", b"SECRET-OUTSIDE", b"{% block", b"def create_app")


@pytest.fixture(scope="module")
def outside_link(content_dir, tmp_path_factory):
    """A symlink inside figures/ that points outside it, to a file with a marker."""
    secret = tmp_path_factory.mktemp("outside") / "secret.svg"
    secret.write_text("<svg>SECRET-OUTSIDE</svg>")
    (content_dir / "figures" / "outside.svg").symlink_to(secret)
    return secret


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_file_outside_static_or_figures_is_served(client, live, outside_link, path):
    _, port, _ = live
    reply, _ = raw_request(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    assert status_of(reply) in (400, 404, 422) or same_site_redirect(reply), (path, reply[:80])
    assert not any(secret in reply for secret in SECRETS), path
    if "%00" not in path and "\\" not in path:
        response = client.get(path, follow_redirects=True)
        assert response.status_code in (400, 404, 422) and not any(s.decode() in response.text for s in SECRETS), path
    count("path traversal", 2)


ODD_IDS = ["%ff%fe", "%e4%bd", "%00", "a" * 3000, "..", "%2e%2e", "<script>", "'; DROP TABLE reviews; --",
           "basics.q.hostile/extra", "%F0%9F%98%80", "%EF%BB%BF", "%7B%7B7*7%7D%7D", "?", "#", "%0d%0aSet-Cookie:x=1"]


@pytest.mark.parametrize("prefix", ["/kp/", "/questions/", "/chapters/", "/mock/", "/drills/", "/exports/",
                                    "/exports/job/file/", "/figures/", "/static/"])
def test_odd_ids_and_encodings_are_4xx(client, live, prefix):
    _, port, _ = live
    for odd in ODD_IDS:
        reply, _ = raw_request(port, f"GET {prefix}{odd} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        assert 400 <= status_of(reply) < 500 or same_site_redirect(reply), (prefix, odd, reply[:80])
        assert b"Traceback" not in reply and b"Set-Cookie: x" not in reply
    count("odd ids and encodings", len(ODD_IDS))


BAD_QUERIES = ["chapter=nope", "chapter=<script>", "difficulty=9", "difficulty=-1", "difficulty=1e9", "difficulty=",
               "tag=%ff", "unknown=1", "q=" + "长" * 300, "kind=evil", "q=%00", "chapter=basics&chapter=basics",
               "followups=2", "q=a&q=b"]


@pytest.mark.parametrize("path", ["/questions", "/search", "/review", "/glossary", "/mock", "/progress"])
def test_bad_query_parameters_are_4xx_with_a_page(client, path):
    for query in BAD_QUERIES:
        response = client.get(f"{path}?{query}")
        assert_no_trace(response)
        # 200: the page says why (search); 414: the URL itself is over the 2 KiB cap
        assert response.status_code in (200, 400, 414), (path, query, response.status_code)
    count("bad query parameters", len(BAD_QUERIES))


BAD_FORMS = [{}, {"rating": "9"}, {"rating": "x"}, {"card_id": "nope"}, {"uid": "NOT-HEX"}, {"shown_at": "-5"},
             {"shown_at": "99999999999999999999999"}, {"turn": "-1"}, {"turn": "x"}, {"tick": "99"}, {"minutes": "7"},
             {"minutes": "1e400"}, {"chapter": "<script>"}, {"answer": "a" * 20_001}, {"card_id": "a" * 301}]


def test_bad_forms_are_4xx_never_500(app, client):
    routes = writes(app, client)
    for name, (path, good) in routes.items():
        if name == "export":
            continue
        for bad in BAD_FORMS:
            response = client.post(path, data={**good, **bad}, headers=SAME_ORIGIN)
            assert_no_trace(response)
            assert response.status_code in (303, 400, 404, 422), (name, bad, response.status_code)
        for body, kind in ((b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
                           (b'{"rating": 3}', "application/json"), (b"--x\r\n", "multipart/form-data; boundary=x")):
            response = client.post(path, content=body, headers={**SAME_ORIGIN, "Content-Type": kind})
            assert_no_trace(response)
        count("bad form bodies", len(BAD_FORMS) + 3)


# --- limits ---------------------------------------------------------------------------------------


def test_ten_megabyte_form_is_refused_fast(live):
    _, port, _ = live
    body = b"answer=" + b"x" * (10 * 1024 * 1024)
    head = (f"POST /mock/start HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    reply, seconds = raw_request(port, head.encode() + body)
    assert status_of(reply) == 413 and seconds < 2.0
    chunked = (f"POST /mock/start HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    piece = b"x" * 65536
    stream = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(160)) + b"0\r\n\r\n"  # 10 MiB, no length
    reply, seconds = raw_request(port, chunked.encode() + stream)
    assert status_of(reply) == 413 and seconds < 2.0
    count("oversized bodies (10 MB, with and without Content-Length)", 2)


def test_hundred_kilobyte_query_is_refused_fast(live):
    _, port, _ = live
    for path in ("/search?q=" + "a" * 100_000, "/questions?" + "&".join(["tag=x"] * 20_000), "/" + "a" * 100_000):
        reply, seconds = raw_request(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        assert status_of(reply) in (414, 431) and seconds < 2.0, (path[:30], reply[:80])
    after, _ = raw_request(port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    assert status_of(after) == 200  # and the server still answers everyone else
    count("oversized URLs (100 KB)", 3)


def test_slow_or_broken_clients_do_not_stop_the_server(live):
    """A client that sends half a request and goes quiet, or garbage, costs the others nothing."""
    import socket

    _, port, _ = live
    quiet = socket.create_connection(("127.0.0.1", port))
    quiet.sendall(f"POST /mock/start HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n\r\nab".encode())
    for garbage in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, b"NOT HTTP AT ALL\r\n\r\n",
                    b"GET / HTTP/9.9\r\n\r\n", b"GET /\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):
        reply, _ = raw_request(port, garbage, timeout=5)
        assert not reply or 400 <= status_of(reply) < 500
    ok, seconds = raw_request(port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    assert status_of(ok) == 200 and seconds < 2.0
    quiet.close()
    count("broken clients (TLS hello, garbage, bad version, NUL, stalled body)", 5)
