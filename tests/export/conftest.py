"""A small two-chapter content tree (tests/export/content) with math, code, a figure, nested and
`ref:` follow-ups, copied to a temporary folder that each test may edit."""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from peprep.content import load_content

HERE = Path(__file__).parent
FIGURE = "rope-rotation.png"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG, written by hand so no image library is needed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class ExportTree:
    def __init__(self, root: Path):
        self.content = root / "content"
        shutil.copytree(HERE / "content", self.content)
        (self.content / "figures").mkdir()
        self.figure = self.content / "figures" / FIGURE
        self.figure.write_bytes(png(64, 32, (30, 110, 200)))
        self.age(3600)

    def load(self):
        return load_content(self.content)

    def age(self, seconds: int) -> None:
        """Move every file's time `seconds` into the past, so that an edit made now is newer."""
        for path in self.content.rglob("*"):
            stat = path.stat()
            os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))

    def replace(self, name: str, old: str, new: str) -> None:
        path = self.content / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def append(self, name: str, text: str) -> None:
        path = self.content / name
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.fixture
def export_tree(tmp_path: Path) -> ExportTree:
    return ExportTree(tmp_path)


@pytest.fixture(scope="module")
def module_export_tree(tmp_path_factory) -> ExportTree:
    """One tree for a whole module, for tests that share one slow export (the PDF)."""
    return ExportTree(tmp_path_factory.mktemp("export"))
