"""Content-addressed cache for lab runs: same config + same data + same code -> reuse the stored result.

A key is the SHA-256 of a JSON document holding the part of the config that the result depends on, the
corpus hash, torch's version and a fingerprint of the source files the computation runs (so editing
the model or an encoding invalidates exactly what it should). Entries are plain files under
`<cache root>/<kind>-<key[:16]>/`; writes go to a temporary name and are renamed, so a run killed
halfway never leaves a half-written entry that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

import torch

SRC = Path(__file__).resolve().parents[1]  # src/peprep


def code_fingerprint(modules: Iterable[str]) -> str:
    """SHA-256 over the named source files of `peprep` (paths relative to src/peprep), in the given order."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(name.encode())
        digest.update((SRC / name).read_bytes())
    return digest.hexdigest()


def cache_key(payload: dict[str, Any]) -> str:
    document = json.dumps({**payload, "torch": torch.__version__}, sort_keys=True, default=str)
    return hashlib.sha256(document.encode()).hexdigest()


class Cache:
    """Files under `root/<kind>-<key[:16]>/`; `root=None` disables caching (every lookup misses)."""

    def __init__(self, root: Path | None):
        self.root = root

    def folder(self, kind: str, key: str) -> Path | None:
        return None if self.root is None else self.root / f"{kind}-{key[:16]}"

    def path(self, kind: str, key: str, name: str) -> Path | None:
        folder = self.folder(kind, key)
        return None if folder is None else folder / name

    def load_json(self, kind: str, key: str, name: str) -> Any | None:
        path = self.path(kind, key, name)
        if path is None or not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def save_json(self, kind: str, key: str, name: str, value: Any) -> None:
        self._write(kind, key, name, json.dumps(value, indent=1, sort_keys=True).encode("utf-8"))

    def load_state(self, kind: str, key: str, name: str) -> dict | None:
        path = self.path(kind, key, name)
        if path is None or not path.is_file():
            return None
        return torch.load(path, map_location="cpu", weights_only=True)

    def save_state(self, kind: str, key: str, name: str, state: dict) -> None:
        path = self.path(kind, key, name)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
        torch.save(state, tmp)
        tmp.replace(path)

    def _write(self, kind: str, key: str, name: str, data: bytes) -> None:
        path = self.path(kind, key, name)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        tmp.replace(path)
