"""What the practice page tests share: an app on the fixture content with its own progress file,
FSRS without fuzz and a clock the test moves (imported by name, like webclient)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from fastapi.testclient import TestClient
from webclient import BASE_URL, FIXTURE_CONTENT

from peprep.practice.scheduler import Scheduler
from peprep.web.app import create_app
from peprep.web.practice_state import PracticeState

START = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


_APPS = {}  # building the app (search index, templates) is the slow part: once per content folder


def practice_client(db: Path, content: Path = FIXTURE_CONTENT) -> tuple[TestClient, Clock]:
    """A client whose practice pages use a fresh progress file `db`, FSRS without fuzz and a fixed clock."""
    app = _APPS.get(content) or _APPS.setdefault(content, create_app(content, db_path=db))
    clock = Clock()
    app.state.practice = PracticeState(app.state.site.content, db, clock, Scheduler(enable_fuzzing=False))
    return TestClient(app, base_url=BASE_URL, follow_redirects=False), clock
