"""Where an export is written, and how: never a half-written file.

Every export builds its output under a temporary name next to the target (same folder, so the same
file system) and renames it into place only when it is complete. A failure at any point, a full disk,
Ctrl-C, leaves the old file (or nothing) where the target is, and removes the temporary.

Errors a user can fix (an unwritable folder, a missing one, a file where a folder should be) raise
`ExportError` with the fix spelled out; the CLI and the web app show it as it is.
"""

from __future__ import annotations

import os
import secrets
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

# progress(fraction done in [0, 1], what is happening now)
Progress = Callable[[float, str], None]

# A folder the Markdown export owns: only a folder holding this file (or an empty one) is replaced.
HANDBOOK_MARKER = ".peprep-handbook"


class ExportError(Exception):
    """An export that cannot be done as asked; `fix` says what to do instead."""

    def __init__(self, message: str, fix: str):
        self.message, self.fix = message, fix
        super().__init__(f"{message}\n  fix: {fix}")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    size: int  # bytes; for a folder, the sum of its files
    seconds: float
    items: int  # what the export counts, in `unit`s
    unit: str  # "notes", "questions", "pages"

    def describe(self) -> str:
        return f"{self.path} ({human_size(self.size)}, {self.items} {self.unit}, {self.seconds:.1f} s)"


def human_size(size: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def no_progress(fraction: float, message: str) -> None:
    pass


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def absolute(path: Path) -> Path:
    """The path as the user meant it (`~` expanded), absolute and normalised: what exports report."""
    return Path(os.path.abspath(Path(path).expanduser()))


def _temporary_name(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.{kind}")


def _check_parent(target: Path) -> None:
    parent = target.parent
    if not parent.exists():
        raise ExportError(f"folder {parent} does not exist", f"create it first (mkdir -p {parent}) or choose another path")
    if not parent.is_dir():
        raise ExportError(f"{parent} is a file, not a folder", "choose a path inside an existing folder")


def _unwritable(target: Path, exc: OSError) -> ExportError:
    return ExportError(f"cannot write to {target.parent}: {exc.strerror or exc}",
                       "choose a folder you can write to (e.g. your home folder) or fix its permissions")


@contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target`, on any failure it is removed."""
    target = absolute(target)
    _check_parent(target)
    if target.is_dir():
        raise ExportError(f"{target} is a folder", f"give a file name, e.g. {target / 'handbook'}{target.suffix or ''}")
    temporary = _temporary_name(target, "part")
    try:
        # O_EXCL: never follow or clobber something already there; 0o666 honours the user's umask.
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise _unwritable(target, exc) from None
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Like `atomic_file` for a folder: build it under a temporary name, then swap it into place.

    An existing target is replaced only if it is empty or an earlier export (it holds HANDBOOK_MARKER):
    we never delete a folder of the user's own files.
    """
    target = absolute(target)
    _check_parent(target)
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} is a file", "give the path of a new or empty folder")
    if target.is_dir() and any(target.iterdir()) and not (target / HANDBOOK_MARKER).exists():
        raise ExportError(f"folder {target} is not empty and was not written by peprep",
                          "choose a new or empty folder (it is created), or delete this one first")
    temporary = _temporary_name(target, "part")
    try:
        temporary.mkdir()
    except OSError as exc:
        raise _unwritable(target, exc) from None
    try:
        yield temporary
        if target.exists():
            old = _temporary_name(target, "old")
            os.replace(target, old)
            os.replace(temporary, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
