"""kill -9 mid-review: the database stays intact and every acknowledged review is in it.

A child process reviews in a loop and prints each review's uid only after `record_review` returned
(the transaction is committed). It is killed with SIGKILL at random moments, several times, each
time restarting on the same file (which also exercises opening a database left with a hot WAL).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

from peprep.practice.store import Store

REVIEWER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta, timezone
    from peprep.practice.scheduler import Rating, Scheduler
    from peprep.practice.store import Store
    path, round_ = sys.argv[1], sys.argv[2]
    store, scheduler = Store(path), Scheduler(enable_fuzzing=False)
    t0 = datetime(2026, 12, 4, tzinfo=timezone.utc)
    print("ready", flush=True)
    i = 0
    while True:
        record = store.record_review(f"a.q.{i % 7}", Rating(i % 4 + 1), scheduler=scheduler,
                                     now=t0 + timedelta(minutes=i), uid=f"{round_}-{i}")
        print(record.uid, flush=True)
        i += 1
""")

ROUNDS = 6


def test_kill_9_in_a_loop_of_reviews_loses_nothing_acknowledged(tmp_path):
    path = tmp_path / "progress.sqlite3"
    rng = random.Random(9)
    acknowledged: list[str] = []
    for round_ in range(ROUNDS):
        child = subprocess.Popen([sys.executable, "-c", REVIEWER, str(path), str(round_)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert child.stdout.readline() == b"ready\n", child.stderr.read().decode()
        # Let it acknowledge some reviews (however slow the machine), then kill it at a random moment.
        for _ in range(rng.randint(5, 40)):
            acknowledged.append(child.stdout.readline().decode().rstrip("\n"))
        time.sleep(rng.uniform(0, 0.05))
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        acknowledged += [line.decode() for line in out.split(b"\n")[:-1]]  # the last piece may be half-written

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    found = {r.uid for r in Store(path).reviews()}
    missing = set(acknowledged) - found
    print(f"kill -9 x{ROUNDS}: {len(acknowledged)} reviews acknowledged, {len(found)} found, {len(missing)} missing")
    assert len(acknowledged) >= 5 * ROUNDS and all(acknowledged)
    assert not missing
    # Committed but not yet acknowledged when killed: at most the one review in flight per kill.
    assert len(found - set(acknowledged)) <= ROUNDS
