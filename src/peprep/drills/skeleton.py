"""A drill's skeleton and solution text, both read from the reference solution's source.

The skeleton keeps the solution's imports, classes, signatures and docstrings and replaces every body
with `raise NotImplementedError`, so the contract a candidate codes against is exactly the one the
check verifies. No torch import: these are text operations (the web app uses them).
"""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

from peprep.drills.catalog import Drill
from peprep.drills.session import header

SOLUTIONS = Path(__file__).resolve().parent / "solutions"


def solution_path(drill: Drill) -> Path:
    return SOLUTIONS / f"{drill.solution}.py"


def solution_source(drill: Drill) -> str:
    return solution_path(drill).read_text(encoding="utf-8")


class _Stub(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        doc = ast.get_docstring(node, clean=False)
        todo = ast.parse('raise NotImplementedError("TODO")').body
        node.body = ([ast.Expr(ast.Constant(doc))] if doc else []) + todo
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        # Keep the docstring and the public methods (and __init__); drop helpers the candidate may design freely.
        keep = [n for n in node.body if isinstance(n, ast.FunctionDef) and (not n.name.startswith("_") or n.name == "__init__")]
        doc = ast.get_docstring(node, clean=False)
        node.body = ([ast.Expr(ast.Constant(doc))] if doc else []) + [self.visit(n) for n in keep]
        return node


def skeleton_source(drill: Drill, *, started: datetime | None) -> str:
    """The file `drill start` writes: header with the start time (none: no timing), the statement, the stubs."""
    tree = ast.parse(solution_source(drill))
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    module = ast.Module(body=[_Stub().visit(n) for n in body], type_ignores=[])
    stubs = ast.unparse(ast.fix_missing_locations(module))
    statement = drill.statement.replace('"""', "'''")
    return (
        f"{header(drill.name, started)}\n"
        f"# 完成后运行：peprep drill check <这个文件>\n"
        f'r"""{drill.title}\n\n{statement}\n"""\n\n{stubs}\n'
    )
