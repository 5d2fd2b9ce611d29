"""Load: 2,000 requests from 50 concurrent keep-alive clients on loopback against the real `peprep serve`, with
zero errors and no growth in the server's open file descriptors. The generator is the benchmark's
(`peprep.bench.web.generate_load`): bounded, it stops by itself after its requests or its deadline."""

from __future__ import annotations

import time

from reliability_kit import count

from peprep.bench.web import generate_load, open_fds

PAGES = {
    "home": ["/"],
    "chapter": ["/chapters/basics", "/chapters/extrapolation"],
    "question": ["/questions/basics.q.hostile", "/questions"],
    "search": ["/search?q=RoPE", "/search?q=%E5%A4%96%E6%8E%A8", "/search?q=%3Cscript%3E"],
    "practice": ["/review", "/progress", "/mock"],
    "static": ["/static/app.css", "/figures/wavelengths.svg"],
}


def settled_fds(pid: int, ceiling: int, wait_s: float = 5.0) -> int:
    """The fd count once closed connections are reaped (polls until it is at most `ceiling` or time is up)."""
    deadline = time.perf_counter() + wait_s
    while True:
        fds = open_fds(pid)
        if fds is None or fds <= ceiling or time.perf_counter() > deadline:
            return fds
        time.sleep(0.05)


def test_two_thousand_requests_from_fifty_clients(live):
    base, _, process = live
    generate_load(base, PAGES, clients=5, per_client=20)  # warm: caches, the progress file, the search index
    baseline = settled_fds(process.pid, ceiling=0, wait_s=0.5)
    report = generate_load(base, PAGES, clients=50, per_client=40, deadline_s=75)
    assert report.requests == 2000 and not report.stopped_by_deadline
    assert report.errors == [], report.errors[:5]
    assert sum(len(v) for v in report.server_ms.values()) == 2000  # every answer carried Server-Timing
    if baseline is not None:
        after = settled_fds(process.pid, ceiling=baseline)
        assert after <= baseline, f"open fds grew from {baseline} to {after}"
    assert process.poll() is None
    count("load: requests from 50 concurrent clients", report.requests)
