"""Run the real server (`peprep.web.server.serve`, uvicorn) in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(content_dir: Path | None = None, timeout: float = 30.0):
    """Yield (base_url, seconds from process start to the first answered request)."""
    port = free_port()
    code = f"from peprep.web.server import serve; serve(port={port}, content_dir={str(content_dir) if content_dir else None!r})"
    # The server's log goes to a file, not a pipe: nobody reads a pipe while tests run, and a full pipe
    # (64 KiB of access log) would freeze the server.
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode(errors='replace')}")
            try:
                httpx.get(base + "/", timeout=1.0)
                break
            except httpx.TransportError:
                if time.perf_counter() - started > timeout:
                    raise RuntimeError("server did not answer in time") from None
                time.sleep(0.05)
        yield base, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
