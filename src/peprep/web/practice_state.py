"""What the practice pages (review, mock interview, progress) share: the bank, the progress store,
the scheduler and the clock, built once per app.

The store is opened on first use, not at start-up: the content pages never need it, and a progress
file that cannot be used (damaged, another program's) must not keep the rest of the app from serving.
Its error becomes a 503 page that says which file and what to do, on the practice pages only.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from starlette.requests import Request

from peprep.content.schema import Content
from peprep.practice.cards import Bank
from peprep.practice.mock import MockRunner
from peprep.practice.review import ReviewFilter, ReviewSession
from peprep.practice.scheduler import Clock, Scheduler, utc_now
from peprep.practice.store import Store, StoreError, default_db_path
from peprep.web.errors import PageError, progress_fault_message


class PracticeState:
    def __init__(self, content: Content, db_path: Path | None = None, clock: Clock = utc_now,
                 scheduler: Scheduler | None = None):
        self.bank = Bank.from_content(content)
        self.db_path = Path(db_path) if db_path else default_db_path()
        self.clock = clock
        self.scheduler = scheduler or Scheduler()
        self._store: Store | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                try:
                    self._store = Store(self.db_path)
                except StoreError as exc:
                    raise PageError(503, f"进度数据库无法使用 — {exc}") from None
                except sqlite3.OperationalError as exc:  # read-only folder, full disk: SQLite's own words
                    raise PageError(503, progress_fault_message(exc, str(self.db_path))) from None
            return self._store

    def check(self) -> str | None:
        """Open the store now (`peprep serve` does, at start); the problem in words, or None."""
        try:
            self.store
        except PageError as exc:
            return exc.message
        return None

    def now(self):
        return self.clock()

    def review_session(self, filters: ReviewFilter) -> ReviewSession:
        return ReviewSession(self.bank, self.store, self.scheduler, lambda: self.clock(), filters)

    def mock_runner(self) -> MockRunner:
        return MockRunner(self.bank, self.store, self.scheduler, lambda: self.clock())


def practice_of(request: Request) -> PracticeState:
    return request.app.state.practice
