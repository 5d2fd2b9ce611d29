"""The progress file: one SQLite database holding the candidate's cards, review log and mock sessions.

Promises (design.md, "Reliability"):

- **Never lost.** WAL mode, `synchronous=FULL`, and one `BEGIN IMMEDIATE` transaction per review that
  reads the card, schedules it and appends the log row: a process killed mid-review loses at most that
  review, and two writers (two browser tabs, two terminals) serialize instead of overwriting each other.
  The review log is append-only (triggers refuse UPDATE and DELETE).
- **Never overwritten.** A file that is not SQLite, a damaged database, another program's database or
  one written by a newer peprep raises a `StoreError` that says so, and the file is left byte for byte
  as it was (nothing is written before the checks pass).
- **Ours, versioned.** `PRAGMA application_id` marks the file as peprep's, `PRAGMA user_version` is the
  schema version. Cards are stored as py-fsrs Card JSON, keyed by content full id (`cards.py`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import fsrs

from peprep.practice.scheduler import Rating, Scheduler, as_utc

APPLICATION_ID = 0x50455052  # "PEPR"
SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 15_000
SOURCES = ("review", "mock")

SCHEMA = (
    """CREATE TABLE cards (
        card_id    TEXT PRIMARY KEY,            -- content full id: rope.q.why-rotate-qk.why-not-v
        fsrs       TEXT NOT NULL CHECK (json_valid(fsrs)),  -- fsrs.Card.to_dict(), keys sorted
        updated_at TEXT NOT NULL
    ) STRICT""",
    """CREATE TABLE reviews (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        uid          TEXT NOT NULL UNIQUE,      -- idempotency key: a resubmitted form is not a second review
        card_id      TEXT NOT NULL,
        rating       INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
        reviewed_at  TEXT NOT NULL,             -- UTC ISO 8601 with microseconds: sorts as text
        duration_ms  INTEGER,
        source       TEXT NOT NULL CHECK (source IN ('review', 'mock')),
        score        REAL CHECK (score IS NULL OR score BETWEEN 0 AND 1),  -- mock: share of key points hit
        state_before INTEGER,                   -- fsrs.State before the review; NULL for a new card
        due_after    TEXT NOT NULL,
        session_id   TEXT                       -- the mock session, for source = 'mock'
    ) STRICT""",
    "CREATE INDEX reviews_by_card ON reviews (card_id, id)",
    "CREATE INDEX reviews_by_time ON reviews (reviewed_at)",
    """CREATE TRIGGER reviews_append_only_update BEFORE UPDATE ON reviews
        BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END""",
    """CREATE TRIGGER reviews_append_only_delete BEFORE DELETE ON reviews
        BEGIN SELECT RAISE(ABORT, 'the review log is append-only'); END""",
    """CREATE TABLE mock_sessions (
        id         TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished   INTEGER NOT NULL CHECK (finished IN (0, 1)),
        data       TEXT NOT NULL CHECK (json_valid(data))
    ) STRICT""",
)


class StoreError(Exception):
    """The progress database cannot be used; the message says why and what to do."""


class CorruptStoreError(StoreError):
    pass


class ForeignStoreError(StoreError):
    pass


class NewerStoreError(StoreError):
    pass


def default_db_path() -> Path:
    """`$PEPREP_DB`, else `${XDG_DATA_HOME:-~/.local/share}/peprep/progress.sqlite3`."""
    if env := os.environ.get("PEPREP_DB"):
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "peprep" / "progress.sqlite3"


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds, so stored times sort correctly as text."""
    return as_utc(moment).isoformat(timespec="microseconds")


def card_json(card: fsrs.Card) -> str:
    return json.dumps(card.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class ReviewRecord:
    """One row of the append-only review log."""

    id: int
    uid: str
    card_id: str
    rating: Rating
    reviewed_at: datetime
    duration_ms: int | None
    source: str
    score: float | None
    state_before: int | None
    due_after: datetime
    session_id: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "ReviewRecord":
        return cls(row["id"], row["uid"], row["card_id"], Rating(row["rating"]),
                   datetime.fromisoformat(row["reviewed_at"]), row["duration_ms"], row["source"], row["score"],
                   row["state_before"], datetime.fromisoformat(row["due_after"]), row["session_id"])


class Store:
    """The progress database at `path`, created on first use. Safe to share between threads and processes:
    every operation opens its own short-lived connection."""

    def __init__(self, path: Path | str):
        self.path = Path(path).expanduser()
        self._open_checked()

    # -- opening ---------------------------------------------------------------------------------

    def _open_checked(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a progress database; pass --db FILE or set PEPREP_DB")
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as handle:
                if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                    raise CorruptStoreError(self._refusal("is not an SQLite database (damaged, or some other file)"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._guarded():
            conn = self._connect()
            try:
                self._check_or_create(conn)
            finally:
                conn.close()

    def _check_or_create(self, conn: sqlite3.Connection) -> None:
        app_id, version, tables = _identity(conn)
        if app_id == 0 and tables == 0:
            conn.execute("BEGIN IMMEDIATE")  # another process may be creating it too: decide under the lock
            app_id, version, tables = _identity(conn)
            if app_id == 0 and tables == 0:
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                app_id, version = APPLICATION_ID, SCHEMA_VERSION
            conn.execute("COMMIT")
        if app_id != APPLICATION_ID:
            raise ForeignStoreError(self._refusal(
                "is an SQLite database of another program (its application_id is not peprep's)"))
        if version > SCHEMA_VERSION:
            raise NewerStoreError(self._refusal(
                f"was written by a newer peprep (schema {version}; this one reads up to {SCHEMA_VERSION}); "
                "upgrade peprep"))
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise CorruptStoreError(self._refusal("is damaged: " + "; ".join(problems[:3])))
        conn.execute("PRAGMA journal_mode = WAL")

    def _refusal(self, why: str) -> str:
        return (f"{self.path} {why}. It was left untouched. Move it aside to start afresh, "
                "or point peprep at another file with --db FILE or PEPREP_DB.")

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """Turn SQLite's "not a database" / "malformed" into a CorruptStoreError naming the file."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "not a database" in text or "malformed" in text or "encrypted" in text:
                raise CorruptStoreError(self._refusal(f"is damaged ({text})")) from exc
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    # -- transactions ----------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one read transaction (a consistent snapshot)."""
        with self._guarded():
            conn = self._connect()
            try:
                conn.execute("BEGIN")
                yield conn
            finally:
                conn.rollback()
                conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one `BEGIN IMMEDIATE` transaction: committed on success, else rolled back."""
        with self._guarded():
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()

    # -- cards and reviews -----------------------------------------------------------------------

    def card(self, card_id: str) -> fsrs.Card | None:
        with self.read() as conn:
            row = conn.execute("SELECT fsrs FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        return fsrs.Card.from_json(row["fsrs"]) if row else None

    def cards(self) -> dict[str, fsrs.Card]:
        with self.read() as conn:
            rows = conn.execute("SELECT card_id, fsrs FROM cards ORDER BY card_id").fetchall()
        return {row["card_id"]: fsrs.Card.from_json(row["fsrs"]) for row in rows}

    def record_review(
        self,
        card_id: str,
        rating: Rating | int,
        *,
        scheduler: Scheduler,
        now: datetime,
        duration_ms: int | None = None,
        source: str = "review",
        score: float | None = None,
        uid: str | None = None,
        session_id: str | None = None,
    ) -> ReviewRecord:
        """Schedule `card_id` with `rating` at `now` and append it to the log, in one transaction.

        Returns the log row once it is committed. A `uid` already in the log returns that row and
        changes nothing (a form submitted twice is one review)."""
        rating = Rating(int(rating))
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}")
        uid = uid or uuid.uuid4().hex
        with self.write() as conn:
            if done := conn.execute("SELECT * FROM reviews WHERE uid = ?", (uid,)).fetchone():
                return ReviewRecord.from_row(done)
            row = conn.execute("SELECT fsrs FROM cards WHERE card_id = ?", (card_id,)).fetchone()
            card = fsrs.Card.from_json(row["fsrs"]) if row else scheduler.new_card(card_id, now)
            state_before = None if card.last_review is None else int(card.state)
            new_card, _ = scheduler.review(card, rating, now, duration_ms)
            cursor = conn.execute(
                "INSERT INTO reviews (uid, card_id, rating, reviewed_at, duration_ms, source, score, state_before,"
                " due_after, session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (uid, card_id, int(rating), iso(now), duration_ms, source, score, state_before,
                 iso(new_card.due), session_id))
            conn.execute(
                "INSERT INTO cards (card_id, fsrs, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (card_id) DO UPDATE SET fsrs = excluded.fsrs, updated_at = excluded.updated_at",
                (card_id, card_json(new_card), iso(now)))
            done = conn.execute("SELECT * FROM reviews WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return ReviewRecord.from_row(done)

    def reviews(self, card_id: str | None = None, since: datetime | None = None,
                state_before: int | None = None) -> list[ReviewRecord]:
        """The log in the order it was written, optionally for one card, from `since` on, and/or of
        reviews that met a card in the given fsrs.State."""
        sql, args = "SELECT * FROM reviews WHERE 1", []
        if card_id is not None:
            sql, args = sql + " AND card_id = ?", [*args, card_id]
        if since is not None:
            sql, args = sql + " AND reviewed_at >= ?", [*args, iso(since)]
        if state_before is not None:
            sql, args = sql + " AND state_before = ?", [*args, int(state_before)]
        with self.read() as conn:
            return [ReviewRecord.from_row(row) for row in conn.execute(sql + " ORDER BY id", args)]

    def recent_reviews(self, per_card: int) -> list[ReviewRecord]:
        """Each card's `per_card` latest reviews, in log order (what "recent evidence" needs, not the
        whole log)."""
        with self.read() as conn:  # one indexed probe per card beats a window over the whole log
            rows = [row for (card_id,) in conn.execute("SELECT DISTINCT card_id FROM reviews")
                    for row in conn.execute("SELECT * FROM reviews WHERE card_id = ? ORDER BY id DESC LIMIT ?",
                                            (card_id, per_card))]
        return [ReviewRecord.from_row(row) for row in sorted(rows, key=lambda row: row["id"])]

    def count_reviews(self) -> int:
        with self.read() as conn:
            return conn.execute("SELECT count(*) FROM reviews").fetchone()[0]

    def first_reviews_since(self, moment: datetime) -> int:
        """How many cards were seen for the first time at or after `moment` (the new-card daily limit)."""
        with self.read() as conn:
            return conn.execute(
                "SELECT count(DISTINCT card_id) FROM reviews AS r WHERE reviewed_at >= ? AND NOT EXISTS"
                " (SELECT 1 FROM reviews AS p WHERE p.card_id = r.card_id AND p.id < r.id)",
                (iso(moment),)).fetchone()[0]

    # -- mock sessions ---------------------------------------------------------------------------

    def save_mock(self, session_id: str, started_at: datetime, finished: bool, data: dict, now: datetime) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO mock_sessions (id, started_at, updated_at, finished, data) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, finished = excluded.finished,"
                " data = excluded.data",
                (session_id, iso(started_at), iso(now), int(finished), json.dumps(data, ensure_ascii=False,
                                                                                  sort_keys=True)))

    def load_mock(self, session_id: str) -> dict | None:
        with self.read() as conn:
            row = conn.execute("SELECT data FROM mock_sessions WHERE id = ?", (session_id,)).fetchone()
        return json.loads(row["data"]) if row else None

    def list_mocks(self) -> list[dict]:
        """Saved sessions, newest first: id, started_at, finished and their data."""
        with self.read() as conn:
            rows = conn.execute("SELECT * FROM mock_sessions ORDER BY started_at DESC, id").fetchall()
        return [{"id": r["id"], "started_at": datetime.fromisoformat(r["started_at"]), "finished": bool(r["finished"]),
                 "data": json.loads(r["data"])} for r in rows]



def _identity(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """(application_id, user_version, number of schema objects) — read-only, safe on any SQLite file."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    objects = conn.execute("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]
    return app_id, version, objects
