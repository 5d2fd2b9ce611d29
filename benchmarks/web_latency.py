"""Web latency benchmark (design.md, Budgets): start-up time, and per-page latency under load.

Starts `peprep serve` (uvicorn, via peprep.web.server.serve) in a subprocess on a free loopback port,
measures the seconds from process start to the first answered request, then sends a fixed number of
requests to the home, chapter, question and search pages from 50 concurrent clients (threads, keep-alive) and reports
p50/p99 of the server time (the app's `Server-Timing: app;dur=` header) and of the round trip.

Not a test: budgets are reported in notes, never asserted in the suite.

    .venv/bin/python benchmarks/web_latency.py [--clients 50] [--requests 40] [--content DIR]
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

SEARCHES = ["外推", "RoPE", "位置编码", "旋转 衰减", "ALiBi", "extrapolation"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, content: Path | None) -> tuple[subprocess.Popen, float]:
    code = f"from peprep.web.server import serve; serve(port={port}, content_dir={str(content) if content else None!r})"
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if process.poll() is not None:
            raise SystemExit("the server exited before answering")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
            return process, time.perf_counter() - started
        except httpx.TransportError:
            if time.perf_counter() - started > 30:
                process.kill()
                raise SystemExit("the server did not answer within 30 s") from None
            time.sleep(0.01)


def pick_pages(base: str) -> dict[str, list[str]]:
    """One URL per page kind, found from the home page and question bank (content keeps growing)."""
    import re

    home = httpx.get(base + "/").text
    bank = httpx.get(base + "/questions").text
    chapter = re.search(r'href="(/chapters/[^"]+)"', home).group(1)
    question = re.search(r'href="(/questions/[^"?#]+)"', bank).group(1)
    return {
        "home": ["/"],
        "chapter": [chapter],
        "question": [question],
        "search": ["/search?" + urlencode({"q": q}) for q in SEARCHES],
    }


def load(base: str, urls: list[str], clients: int, per_client: int) -> tuple[list[float], list[float], int, float]:
    """(server ms, round-trip ms, non-200 count, wall s): `clients` threads, each holding one
    keep-alive connection (a reader with the app open) and sending `per_client` requests back to back.

    The load generator is stdlib http.client, not httpx: on a 2-core machine the client shares the
    CPUs with the server, and httpx's per-request cost would be measured as server latency."""
    host, port = base.removeprefix("http://").split(":")
    server: list[float] = []
    round_trip: list[float] = []
    failures = [0]
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    done = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        try:
            run_client(index)
        except BaseException:
            ready.abort()  # never leave the others (and main) waiting on a dead client
            done.abort()
            raise

    def run_client(index: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("GET", urls[0])  # open the connection before the clock starts
        connection.getresponse().read()
        ready.wait()
        mine_server, mine_trip, mine_failures = [], [], 0
        for i in range(per_client):
            t0 = time.perf_counter()
            connection.request("GET", urls[(index + i) % len(urls)])
            response = connection.getresponse()
            response.read()
            mine_trip.append((time.perf_counter() - t0) * 1000)
            mine_server.append(float((response.getheader("server-timing") or "app;dur=nan").split("dur=")[1]))
            mine_failures += response.status != 200
        connection.close()
        with lock:
            server.extend(mine_server)
            round_trip.extend(mine_trip)
            failures[0] += mine_failures
        done.wait()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    try:
        ready.wait()
        t0 = time.perf_counter()
        done.wait()
    except threading.BrokenBarrierError:
        raise SystemExit("a client failed; see its traceback above") from None
    return server, round_trip, failures[0], time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="requests per client per page kind")
    parser.add_argument("--content", type=Path, default=None)
    args = parser.parse_args()

    port = free_port()
    process, ready_s = start_server(port, args.content)
    base = f"http://127.0.0.1:{port}"
    try:
        pages = pick_pages(base)
        time.sleep(1.0)  # let the background warm-up finish, as it does long before a reader clicks
        for urls in pages.values():  # one sequential request per URL: what a single reader sees
            for url in urls:
                httpx.get(base + url)
        print(f"ready: {ready_s:.2f} s from process start to first answered request (budget < 2 s)")
        print(f"load: {args.clients} concurrent clients x {args.requests} requests per page kind, loopback")
        print(f"{'page':10s} {'n':>6s} {'server p50':>11s} {'server p99':>11s} {'round p50':>10s} {'round p99':>10s} {'req/s':>7s} {'errors':>7s}")
        for kind, urls in pages.items():
            server, trip, errors, wall = load(base, urls, args.clients, args.requests)
            print(f"{kind:10s} {len(server):6d} {percentile(server, 50):9.2f}ms {percentile(server, 99):9.2f}ms "
                  f"{percentile(trip, 50):8.1f}ms {percentile(trip, 99):8.1f}ms {len(server) / wall:7.0f} {errors:7d}")
        print("server = the app's own time (Server-Timing); round = client-observed, incl. queueing on this machine")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
