"""The source a KP page shows: its `code` symbols and its `verified_by` tests, read without importing.

`peprep.encodings` imports torch and the server must not (design.md, Budgets), so symbols and tests
are located the way the checker locates them (`peprep.content.python_source`): by file path and AST.
What the checker accepts, the page can show.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from peprep.content.python_source import encodings_symbol_file, find_definition, split_test_id


@dataclass(frozen=True)
class Listing:
    name: str  # what the content wrote
    file: str  # shown to the reader, relative to the repository where possible
    line: int
    source: str


def package_dir(package: str = "peprep") -> Path:
    """The folder of a top-level package, found without importing anything below it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"package {package!r} not found")
    return Path(next(iter(spec.submodule_search_locations)))


class SourceFinder:
    """Sources of `peprep.encodings.*` symbols under `package`, and of pytest node ids under `repo_root`."""

    def __init__(self, package: Path, repo_root: Path):
        self.package = package
        self.repo_root = repo_root.resolve()
        self.symbol = lru_cache(maxsize=512)(self._symbol)
        self.test = lru_cache(maxsize=512)(self._test)

    def _symbol(self, symbol: str) -> Listing | None:
        located = encodings_symbol_file(symbol, self.package)
        return self._listing(symbol, *located) if located else None

    def _test(self, node_id: str) -> Listing | None:
        path, name = split_test_id(node_id)
        file = (self.repo_root / path).resolve()
        # A node id is content, not code: it may only name a file inside the repository.
        if not name or not file.is_relative_to(self.repo_root):
            return None
        return self._listing(node_id, file, name)

    def _listing(self, shown_name: str, file: Path, dotted: str) -> Listing | None:
        try:
            found = find_definition(file, dotted)
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            return None
        if found is None:
            return None
        resolved = file.resolve()
        shown = str(resolved.relative_to(self.repo_root)) if resolved.is_relative_to(self.repo_root) else file.name
        return Listing(shown_name, shown, found.line, found.source + "\n")
