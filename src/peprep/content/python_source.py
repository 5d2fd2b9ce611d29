"""Find a function or class in a Python file by name without importing it (torch stays unloaded).

Used by the checker (does the test / symbol exist?) and by the web app (show its source).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Definition:
    file: Path
    name: str
    line: int
    source: str


@lru_cache(maxsize=256)
def _parse(file: Path, mtime: float) -> tuple[ast.Module, str]:
    text = file.read_text(encoding="utf-8")
    return ast.parse(text, filename=str(file)), text


def find_definition(file: Path, dotted: str) -> Definition | None:
    """`dotted` is `name` or `Class.name`; top-level functions, classes and assignments count."""
    if not file.is_file():
        return None
    tree, text = _parse(file, file.stat().st_mtime)
    scope: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for part in dotted.split("."):
        node = next((n for n in scope if _defines(n, part)), None)
        if node is None:
            return None
        scope = getattr(node, "body", [])
    source = ast.get_source_segment(text, node, padded=False) or ""
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    if decorators:
        source = "\n".join(text.splitlines()[first - 1 : node.end_lineno])
    return Definition(file=file, name=dotted, line=first, source=source)


def _defines(node: ast.AST, name: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.target.id == name
    return False


def split_test_id(node_id: str) -> tuple[str, str]:
    """`tests/a.py::TestX::test_y[p]` -> ('tests/a.py', 'TestX.test_y')."""
    path, _, rest = node_id.partition("::")
    return path, rest.split("[", 1)[0].replace("::", ".")


def encodings_symbol_file(symbol: str, package_dir: Path) -> tuple[Path, str] | None:
    """`peprep.encodings.rope.apply_rope` -> (…/peprep/encodings/rope.py, 'apply_rope').

    Tries the longest module path first so `module.Class.method` works too.
    """
    parts = symbol.split(".")
    if parts[:2] != ["peprep", "encodings"] or len(parts) < 3:
        return None
    for cut in range(len(parts) - 1, 1, -1):
        module = package_dir.joinpath(*parts[1:cut])
        for candidate in (module.with_suffix(".py"), module / "__init__.py"):
            if candidate.is_file():
                return candidate, ".".join(parts[cut:])
    return None
