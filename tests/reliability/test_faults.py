"""Faults: the progress file's disk full or read-only gives a clear error and keeps the data; the progress
file or a content file damaged while the server runs does not take the server down.

Disk full is real where it can be: a subprocess whose file-size limit (RLIMIT_FSIZE, no privileges needed)
stops the database growing — SQLite then fails the write as on a full disk — and, when running as root,
a 200 KB tmpfs that really fills up. Read-only is chmod for an ordinary user, `chattr +i` for root (root
ignores permission bits); the test is skipped where neither is possible.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from reliability_kit import BASE, count

from peprep.bench.web import free_port, running_server, serve_command
from peprep.practice.scheduler import Scheduler
from peprep.practice.store import Store

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)
CARD = "basics.q.what-is-pe"


def seeded_store(path: Path, n: int = 5) -> Store:
    store = Store(path)
    for i in range(n):
        store.record_review(f"seed{i}", 3, scheduler=Scheduler(enable_fuzzing=False), now=NOW)
    return store


def intact(path: Path) -> tuple[int, str]:
    """(reviews, integrity_check) of a progress file, read with plain sqlite3 (and closed again)."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT count(*) FROM reviews").fetchone()[0], conn.execute("PRAGMA integrity_check").fetchone()[0]


def rate(client, origin: str = BASE):
    form = {"card_id": CARD, "rating": "3", "uid": uuid.uuid4().hex, "shown_at": "0"}
    return client.post("/review/rate", data=form, headers={"Origin": origin})


# --- disk full ------------------------------------------------------------------------------------

FILL = textwrap.dedent('''
    import resource, signal, sys
    from datetime import datetime, timezone
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
    from peprep.practice.store import Store
    from peprep.practice.scheduler import Scheduler
    store, done = Store(sys.argv[1]), 0
    try:
        for i in range(100000):
            store.record_review(f"fill{i}" + "x" * 300, 3, scheduler=Scheduler(enable_fuzzing=False),
                                now=datetime(2026, 12, 4, tzinfo=timezone.utc))
            done += 1
    except Exception as exc:
        print(done, type(exc).__name__, exc, sep="\\t")
''')


def test_disk_full_under_the_store_keeps_every_committed_review(tmp_path):
    db = tmp_path / "progress.sqlite3"
    seeded_store(db)
    out = subprocess.run([sys.executable, "-c", FILL, str(db), str(db.stat().st_size + 24_000)],
                         capture_output=True, text=True, timeout=120).stdout.strip()
    done, kind, message = out.split("\t")
    assert kind in ("OperationalError", "StoreError") and ("full" in message or "disk" in message), out
    assert intact(db) == (5 + int(done), "ok")  # every review committed before the fault is still there
    count("faults: progress file, disk full (file-size limit)")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="a real full disk needs a tmpfs (root)")
def test_a_really_full_disk_keeps_every_committed_review(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("mount is not permitted here")
    try:
        db = mnt / "progress.sqlite3"
        seeded_store(db)
        out = subprocess.run([sys.executable, "-c", FILL, str(db), str(10**9)], capture_output=True, text=True,
                             timeout=120).stdout.strip()
        done, kind, message = out.split("\t")
        assert "database or disk is full" in message, out
        assert intact(db) == (5 + int(done), "ok")
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
    count("faults: progress file, disk full (tmpfs)")


@contextmanager
def server_with_file_limit(content_dir: Path, db: Path, limit: int):
    """`peprep serve` whose process may not grow any file past `limit` bytes (its progress file included)."""
    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))  # soft: can be raised again

    port = free_port()
    process = subprocess.Popen(serve_command(port, db, content_dir), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=limited)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_disk_full_on_the_web_is_a_clear_503_and_the_next_try_works(content_dir, tmp_path):
    db = tmp_path / "progress.sqlite3"
    seeded_store(db)
    with server_with_file_limit(content_dir, db, db.stat().st_size + 24_000) as (base, process):
        client = httpx.Client(base_url=base, headers={"Origin": base})
        saved = 0
        for _ in range(400):
            response = client.post("/review/rate", data={"card_id": CARD, "rating": "3", "uid": uuid.uuid4().hex,
                                                        "shown_at": "0"})
            if response.status_code != 303:
                break
            saved += 1
        assert response.status_code == 503, response.status_code
        assert "磁盘已满" in response.text and str(db) in response.text and "没有丢失" in response.text
        assert client.get("/").status_code == 200 and process.poll() is None  # the rest of the app serves on
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # space freed
        again = client.post("/review/rate", data={"card_id": CARD, "rating": "3", "uid": uuid.uuid4().hex,
                                                  "shown_at": "0"})
        assert again.status_code == 303  # space freed: the same action now saves
    assert intact(db) == (5 + saved + 1, "ok")
    count("faults: web, disk full then freed")


# --- read-only ------------------------------------------------------------------------------------


@contextmanager
def read_only(*paths: Path):
    """Make files and folders unwritable for this process, whatever its user; skip where impossible."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True).returncode:
        pytest.skip("root ignores permissions and chattr +i is not permitted here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


@pytest.mark.parametrize("journal_open", [False, True], ids=["closed-cleanly", "another-connection-open"])
def test_read_only_progress_file_is_a_clear_error_and_keeps_the_data(content_dir, tmp_path, journal_open):
    """Closed cleanly, a WAL database in a read-only folder cannot even be opened (SQLite needs its -shm
    file); with another connection open (-wal and -shm exist) it reads, and every write fails."""
    from peprep.web.app import create_app

    db = tmp_path / "ro" / "progress.sqlite3"
    seeded_store(db)
    before = intact(db)
    keeper = sqlite3.connect(db) if journal_open else None
    if keeper is not None:
        keeper.execute("SELECT count(*) FROM reviews").fetchone()
    try:
        with read_only(*[p for p in db.parent.iterdir()], db.parent):
            with pytest.raises(sqlite3.OperationalError) as raised:  # the store's API: SQLite's own words
                Store(db).record_review("new", 3, scheduler=Scheduler(enable_fuzzing=False), now=NOW)
            assert "readonly" in str(raised.value) or "unable to open" in str(raised.value)
            app = create_app(content_dir, db_path=db)
            problem = app.state.practice.check()  # `peprep serve` prints this and serves on
            assert (problem is None) == journal_open
            client = TestClient(app, base_url=BASE, follow_redirects=False)
            assert client.get("/").status_code == 200 and client.get("/chapters/basics").status_code == 200
            reads = [client.get("/review"), client.get("/progress")]
            assert all(r.status_code == (200 if journal_open else 503) for r in reads)
            for response in ([] if journal_open else reads) + [rate(client)]:
                assert response.status_code == 503 and "只读" in response.text and str(db) in response.text
    finally:
        if keeper is not None:
            keeper.close()
    assert intact(db) == before
    count("faults: progress file read-only (store API, start-up, pages, rating)", 4)


# --- damaged while the server runs ---------------------------------------------------------------


def test_content_made_invalid_while_serving_does_not_take_the_server_down(tmp_path):
    from reliability_kit import copy_fixture

    content = copy_fixture(tmp_path / "content")
    with running_server(content) as (base, _, process):
        client = httpx.Client(base_url=base)
        pages = ["/", "/chapters/basics", "/kp/basics.hostile", "/questions/basics.q.hostile", "/search?q=RoPE",
                 "/glossary", "/print"]
        assert all(client.get(p).status_code == 200 for p in pages)
        chapter = content / "chapters" / "01-basics"
        (chapter / "knowledge.yaml").write_text("- id: [unclosed\n\x00garbage: {", encoding="utf-8")
        (chapter / "questions.yaml").unlink()
        (chapter / "questions.yaml").mkdir()  # a folder where a file was
        (content / "glossary.yaml").write_bytes(b"\xff\xfe\x00")
        (content / "figures" / "wavelengths.svg").unlink()
        for path in pages:
            assert client.get(path).status_code == 200, path  # served from what was loaded at start
        assert client.get("/figures/wavelengths.svg").status_code == 404
        assert process.poll() is None
    count("faults: content files damaged while serving", 4)


def test_progress_file_damaged_or_removed_while_serving(content_dir, tmp_path):
    db = tmp_path / "live.sqlite3"
    seeded_store(db)
    with running_server(content_dir, db=db) as (base, _, process):
        client = httpx.Client(base_url=base)
        assert rate(client, base).status_code == 303
        for p in db.parent.glob("live.sqlite3*"):
            p.unlink()
        db.write_bytes(b"this is not a database" * 100)  # replaced by something else
        for response in (rate(client, base), client.get("/review"), client.get("/progress")):
            assert response.status_code == 503 and str(db) in response.text, response.status_code
        db.unlink()  # removed entirely
        response = rate(client, base)
        assert response.status_code in (303, 503) and "Traceback" not in response.text
        assert client.get("/").status_code == 200 and process.poll() is None
    count("faults: progress file replaced or removed while serving", 2)
