"""The content version every export is stamped with: a digest of `content/` and a time.

- `digest`: SHA-256 over every file's relative path and bytes (hidden files skipped), first 12 hex
  digits. Same content, same digest, on any machine.
- `time`: the newest modification time among those files, in whole seconds. Unchanged files give the
  same time, and an edit makes it later (the edited file is the newest). The Anki export uses it as
  every note's modification time, because Anki's importer only updates a note whose incoming time is
  newer than its own: a fixed or decreasing time would make it skip every edit, silently.

  A wall-clock "now" would be newer too, but two exports of unchanged content would then differ.
  Caveat: copying content with its old times kept (`cp -p`, some archive tools) can make the time go
  backwards; touch the edited files, or let git check them out, and it moves forward again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class ContentVersion:
    digest: str
    time: int  # Unix seconds

    @property
    def date(self) -> str:
        """The content's date in UTC (YYYY-MM-DD), as stamped on covers and indexes."""
        return datetime.fromtimestamp(self.time, timezone.utc).strftime("%Y-%m-%d")

    def label(self) -> str:
        return f"{self.digest} ({self.date})"


def content_files(root: Path) -> list[Path]:
    """Every file under `root` that is content (editor and OS droppings like `.DS_Store` are not)."""
    return sorted(
        (p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)),
        key=lambda p: p.relative_to(root).as_posix(),
    )


def content_version(root: Path) -> ContentVersion:
    digest = hashlib.sha256()
    newest = 0
    for file in content_files(root):
        data = file.read_bytes()
        digest.update(file.relative_to(root).as_posix().encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
        newest = max(newest, int(file.stat().st_mtime))
    return ContentVersion(digest=digest.hexdigest()[:12], time=newest)
