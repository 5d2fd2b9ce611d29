"""The server starts without torch, serves over a real socket, and the guard holds on the wire."""

import socket
import subprocess
import sys
import textwrap

import pytest
from live_server import live_server
from webclient import FIXTURE_CONTENT

from peprep.web.server import serve


def test_serving_every_page_kind_never_imports_torch():
    script = textwrap.dedent(f"""
        import sys
        from fastapi.testclient import TestClient
        from peprep.web.app import create_app
        for content in ({str(FIXTURE_CONTENT)!r}, None):
            client = TestClient(create_app(content), base_url="http://127.0.0.1:8000")
            for path in ("/", "/chapters/basics", "/kp/basics.sinusoidal", "/questions", "/questions/basics.q.what-is-pe",
                         "/glossary", "/search?q=外推", "/figures/wavelengths.svg"):
                client.get(path)
        print("torch" in sys.modules, "peprep.encodings" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def raw_request(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_live_server_answers_and_refuses_on_the_wire():
    with live_server(FIXTURE_CONTENT) as (base, _ready_s):
        port = base.rsplit(":", 1)[1]
        ok = raw_request(base, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        assert ok.startswith(b"HTTP/1.1 200") and "位置编码面试通关".encode() in ok
        # Dot segments sent raw (a browser or httpx would normalise them away first).
        for path in ("/static/../pyproject.toml", "/static/../../pyproject.toml", "/figures/../not-a-figure.txt"):
            reply = raw_request(base, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            assert reply.split(b" ", 2)[1] in (b"400", b"404") and b"[build-system]" not in reply and b"secret" not in reply
        rebinding = raw_request(base, b"GET / HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n")
        assert rebinding.startswith(b"HTTP/1.1 400")


def test_serve_refuses_non_loopback_hosts():
    with pytest.raises(ValueError):
        serve(host="0.0.0.0")


def test_serve_stops_with_file_and_line_on_broken_content(tmp_path):
    import shutil

    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    chapter = content / "chapters" / "01-basics" / "chapter.yaml"
    chapter.write_text(chapter.read_text().replace("order: 1", "ordr: 1"))
    with pytest.raises(SystemExit) as stopped:
        serve(port=1, content_dir=content)
    assert f"{chapter}:" in str(stopped.value) and "ordr" in str(stopped.value)
