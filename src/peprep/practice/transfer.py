"""`peprep progress export FILE` / `import FILE`: the store as versioned JSON.

Export writes every card (py-fsrs Card JSON), the whole review log in the order it was written, and the
saved mock sessions. Import merges, in one transaction, so it is safe to run twice or onto a store that
has progress of its own:

- reviews are keyed by `uid`: one already present is skipped, new ones are appended in file order;
- a card present on both sides keeps the state with the later `last_review`;
- a mock session present on both sides keeps the later `updated_at`.

Exporting a store, importing the file into an empty store and exporting that gives the same JSON.
A file that is not this format, or is of a newer version, is refused before anything is written.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import fsrs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from peprep.practice.store import SCHEMA_VERSION, Store, iso

FORMAT = "peprep-progress"
FORMAT_VERSION = 1
NEVER = datetime(1, 1, 1, tzinfo=timezone.utc)


class TransferError(Exception):
    """The file cannot be imported (or written); the message says why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CardEntry(_Strict):
    card_id: str = Field(min_length=1)
    fsrs: dict[str, Any]
    updated_at: str


class ReviewEntry(_Strict):
    uid: str = Field(min_length=1)
    card_id: str = Field(min_length=1)
    rating: int = Field(ge=1, le=4)
    reviewed_at: str
    duration_ms: int | None
    source: Literal["review", "mock"]
    score: float | None = Field(ge=0, le=1)
    state_before: int | None = Field(ge=1, le=3)
    due_after: str
    session_id: str | None


class MockEntry(_Strict):
    id: str = Field(min_length=1)
    started_at: str
    updated_at: str
    finished: bool
    data: dict[str, Any]


class ProgressFile(_Strict):
    format: Literal["peprep-progress"]
    version: int
    schema_version: int
    exported_at: str
    cards: list[CardEntry]
    reviews: list[ReviewEntry]
    mock_sessions: list[MockEntry]


def export_progress(store: Store, now: datetime) -> dict:
    """Everything in the store, as a JSON-ready dict."""
    with store.read() as conn:
        cards = [{"card_id": r["card_id"], "fsrs": json.loads(r["fsrs"]), "updated_at": r["updated_at"]}
                 for r in conn.execute("SELECT * FROM cards ORDER BY card_id")]
        reviews = [{k: r[k] for k in ReviewEntry.model_fields} for r in conn.execute("SELECT * FROM reviews ORDER BY id")]
        sessions = [{"id": r["id"], "started_at": r["started_at"], "updated_at": r["updated_at"],
                     "finished": bool(r["finished"]), "data": json.loads(r["data"])}
                    for r in conn.execute("SELECT * FROM mock_sessions ORDER BY started_at, id")]
    return {"format": FORMAT, "version": FORMAT_VERSION, "schema_version": SCHEMA_VERSION, "exported_at": iso(now),
            "cards": cards, "reviews": reviews, "mock_sessions": sessions}


def write_export(store: Store, file: Path, now: datetime) -> dict:
    """Write the export to `file` atomically (a temporary file renamed over it); return what was written."""
    data = export_progress(store, now)
    tmp = file.with_name(file.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, file)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TransferError(f"cannot write {file}: {exc.strerror or exc}") from exc
    return data


def read_import(file: Path) -> ProgressFile:
    """Parse and validate an export file; a `TransferError` says what is wrong and where."""
    try:
        # NaN/Infinity are not JSON: Python would accept them and SQLite's json_valid check would not.
        raw = json.loads(file.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except OSError as exc:
        raise TransferError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # bad UTF-8, bad JSON, NaN/Infinity
        raise TransferError(f"{file} is not a JSON file ({exc})") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise TransferError(f"{file} is not a peprep progress export (no \"format\": \"{FORMAT}\")")
    if isinstance(raw.get("version"), int) and raw["version"] > FORMAT_VERSION:
        raise TransferError(f"{file} was exported by a newer peprep (format version {raw['version']}; "
                            f"this one reads up to {FORMAT_VERSION}); upgrade peprep")
    try:
        parsed = ProgressFile.model_validate(raw)
        for i, card in enumerate(parsed.cards):
            _check_card(card, i)
        moments = [m for r in parsed.reviews for m in (r.reviewed_at, r.due_after)]
        moments += [m for s in parsed.mock_sessions for m in (s.started_at, s.updated_at)]
        for moment in moments:
            if datetime.fromisoformat(moment).tzinfo is None:  # ValueError names a malformed value
                raise ValueError(f"{moment!r} has no timezone (exports store UTC times)")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TransferError(f"{file}: {where}: {first['msg']} ({exc.error_count()} problem(s))") from None
    except ValueError as exc:
        raise TransferError(f"{file}: {exc}") from None
    return parsed


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _check_card(card: CardEntry, index: int) -> None:
    try:
        fsrs.Card.from_dict(card.fsrs)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"cards.{index}.fsrs is not a py-fsrs card ({exc!r})") from None


def import_progress(store: Store, data: ProgressFile) -> dict[str, int]:
    """Merge `data` into the store in one transaction; return how many rows were added or updated."""
    counts = {"cards_added": 0, "cards_updated": 0, "reviews_added": 0, "sessions_added": 0, "sessions_updated": 0}
    with store.write() as conn:
        for review in data.reviews:
            row = review.model_dump()
            cursor = conn.execute(
                f"INSERT INTO reviews ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
                " ON CONFLICT (uid) DO NOTHING", tuple(row.values()))
            counts["reviews_added"] += cursor.rowcount
        for card in data.cards:
            mine = conn.execute("SELECT fsrs FROM cards WHERE card_id = ?", (card.card_id,)).fetchone()
            text = json.dumps(card.fsrs, sort_keys=True)
            if mine is None:
                conn.execute("INSERT INTO cards (card_id, fsrs, updated_at) VALUES (?, ?, ?)",
                             (card.card_id, text, card.updated_at))
                counts["cards_added"] += 1
            elif _last_review(card.fsrs) > _last_review(json.loads(mine["fsrs"])):
                conn.execute("UPDATE cards SET fsrs = ?, updated_at = ? WHERE card_id = ?",
                             (text, card.updated_at, card.card_id))
                counts["cards_updated"] += 1
        for session in data.mock_sessions:
            mine = conn.execute("SELECT updated_at FROM mock_sessions WHERE id = ?", (session.id,)).fetchone()
            values = (session.started_at, session.updated_at, int(session.finished),
                      json.dumps(session.data, ensure_ascii=False, sort_keys=True), session.id)
            if mine is None:
                conn.execute("INSERT INTO mock_sessions (started_at, updated_at, finished, data, id)"
                             " VALUES (?, ?, ?, ?, ?)", values)
                counts["sessions_added"] += 1
            elif session.updated_at > mine["updated_at"]:
                conn.execute("UPDATE mock_sessions SET started_at = ?, updated_at = ?, finished = ?, data = ?"
                             " WHERE id = ?", values)
                counts["sessions_updated"] += 1
    return counts


def _last_review(card: dict) -> datetime:
    value = card.get("last_review")
    return datetime.fromisoformat(value) if value else NEVER
