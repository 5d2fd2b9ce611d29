"""The web app under load: `peprep serve` start-up time and page latency with 50 concurrent clients.

`start_server` runs the real command (`peprep serve --port P --db TMP`) in a subprocess and measures
the seconds from process start to the first answered request. `generate_load` is a bounded load
generator: `clients` threads, each holding one keep-alive loopback connection (a reader with the app
open), send `per_client` requests and stop — or stop early at `deadline_s`. It records the app's own
time per request (the guard's `Server-Timing: app;dur=` header), the round trip, and every non-200
answer or connection error. The client is stdlib `http.client`: it shares the two CPUs with the
server, and a heavier client would be measured as server latency.

tests/reliability/test_load.py uses the same generator for its 2,000-request zero-error check.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from peprep.bench.runner import Result, percentile

READY_BUDGET_S = 2.0  # design.md, Budgets
PAGE_BUDGET_MS = 50.0
SEARCHES = ("外推", "RoPE", "位置编码", "旋转 衰减", "ALiBi", "extrapolation")
BUDGET = "budget (design.md)"


@dataclass
class LoadReport:
    """What a load run saw, per page kind: server ms, round-trip ms; and everything that went wrong."""

    server_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    round_trip_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    stopped_by_deadline: bool = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(port: int, db: Path, content: Path | None = None) -> list[str]:
    """The `peprep serve` command line of this environment (the console script next to python)."""
    script = Path(sys.executable).with_name("peprep")
    head = [str(script)] if script.exists() else [sys.executable, "-c", "from peprep.cli import app; app()"]
    tail = ["--content", str(content)] if content else []
    return [*head, "serve", "--port", str(port), "--db", str(db), *tail]


@contextmanager
def running_server(content: Path | None = None, *, timeout_s: float = 30.0, db: Path | None = None):
    """Yield (base URL, seconds to the first answer, process); the server and its temp files go afterwards.

    `db`: the progress file (default: a fresh one in the temporary folder)."""
    tmp = Path(tempfile.mkdtemp(prefix="peprep-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks its event loop.
    with open(tmp / "server.log", "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(serve_command(port, db or tmp / "progress.sqlite3", content), stdout=log, stderr=log)
        try:
            _wait_until_answering(base, process, started, timeout_s, tmp / "server.log")
            yield base, time.perf_counter() - started, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            shutil.rmtree(tmp, ignore_errors=True)


def _wait_until_answering(base: str, process: subprocess.Popen, started: float, timeout_s: float, log: Path) -> None:
    import httpx

    while True:
        if process.poll() is not None:
            raise RuntimeError(f"peprep serve exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(base + "/", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError(f"peprep serve did not answer within {timeout_s} s")
        time.sleep(0.01)


def pick_pages(base: str) -> dict[str, list[str]]:
    """One URL per page kind, found by following the home page and the question bank."""
    import httpx

    home = httpx.get(base + "/").text
    bank = httpx.get(base + "/questions").text
    chapter = re.search(r'href="(/chapters/[^"?#]+)"', home)
    question = re.search(r'href="(/questions/[^"?#]+)"', bank)
    if not chapter or not question:
        raise RuntimeError("the home page or question bank links to no chapter or question")
    return {
        "home": ["/"],
        "chapter": [chapter.group(1)],
        "question": [question.group(1)],
        "search": ["/search?" + urlencode({"q": q}) for q in SEARCHES],
    }


def generate_load(base: str, pages: dict[str, list[str]], *, clients: int = 50, per_client: int = 40,
                  deadline_s: float = 60.0) -> LoadReport:
    """Each client cycles through every page kind's URLs; all stop after `per_client` or at the deadline."""
    host, port = base.removeprefix("http://").split(":")
    plan = [(kind, url) for kind, urls in pages.items() for url in urls]
    report = LoadReport()
    lock = threading.Lock()
    start = threading.Event()
    stop_at = [0.0]

    def client(index: int) -> None:
        mine_server, mine_trip, mine_errors, sent = defaultdict(list), defaultdict(list), [], 0
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        start.wait()
        for i in range(per_client):
            if time.perf_counter() > stop_at[0]:
                break
            kind, url = plan[(index + i) % len(plan)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", url)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                mine_errors.append(f"{url}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                continue
            finally:
                sent += 1
            mine_trip[kind].append(1e3 * (time.perf_counter() - t0))
            if response.status != 200:
                mine_errors.append(f"{url}: HTTP {response.status}")
            timing = re.search(r"app;dur=([0-9.]+)", response.getheader("server-timing") or "")
            if timing:
                mine_server[kind].append(float(timing.group(1)))
        conn.close()
        with lock:
            for kind, values in mine_server.items():
                report.server_ms[kind].extend(values)
            for kind, values in mine_trip.items():
                report.round_trip_ms[kind].extend(values)
            report.errors.extend(mine_errors)
            report.requests += sent

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    t0 = time.perf_counter()
    stop_at[0] = t0 + deadline_s
    start.set()
    for thread in threads:
        thread.join(timeout=deadline_s + 35)  # a request in flight at the deadline may take its timeout
    report.seconds = time.perf_counter() - t0
    report.stopped_by_deadline = report.requests < clients * per_client
    return report


def open_fds(pid: int) -> int | None:
    """Open file descriptors of a process (Linux /proc), or None where that cannot be read."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def run(*, quick: bool = False) -> list[Result]:
    clients, per_client = (5, 4) if quick else (50, 40)
    with running_server() as (base, ready_s, process):
        pages = pick_pages(base)
        time.sleep(0.5 if quick else 1.5)  # the app warms its caches in the background after start-up
        generate_load(base, pages, clients=2, per_client=len(sum(pages.values(), [])))  # one pass: warm
        report = generate_load(base, pages, clients=clients, per_client=per_client)
    details = {"clients": clients, "requests": report.requests, "errors": len(report.errors),
               "seconds": report.seconds, "first errors": report.errors[:5],
               "round trip p50/p99 ms": {k: (percentile(v, 50), percentile(v, 99))
                                         for k, v in report.round_trip_ms.items() if v}}
    results = [Result("web: peprep serve to first response", "s", ready_s, {BUDGET: READY_BUDGET_S}, details)]
    for kind in pages:
        values = report.server_ms.get(kind)
        if not values:
            continue
        for q in (50, 99):
            results.append(Result(f"web: {kind} page server time p{q}, {clients} concurrent clients", "ms",
                                  percentile(values, q), {BUDGET: PAGE_BUDGET_MS}, details))
    return results
